"""NER data loading (CoNLL, WNUT, GMB CSV), tag checks and repairs, and the tokenizer."""

import random

import pytest
from conftest import data_dir
from support.ner import synthetic_sentences, tags_of, write_conll, write_gmb_csv, write_wnut

from apps.ner import data
from seqapps.errors import UserError
from seqapps.text import tagging

CONLL = """-DOCSTART- -X- O O

EU NNP I-NP I-ORG
rejects VBZ I-VP O
German JJ I-NP I-MISC
call NN I-NP O
. . O O

Peter NNP I-NP I-PER
Blackburn NNP I-NP I-PER
Anna NNP I-NP B-PER

-DOCSTART- -X- O O

BRUSSELS NNP I-NP I-LOC
"""


@pytest.fixture
def conll_file(tmp_path):
    path = tmp_path / "eng.sample"
    path.write_text(CONLL, encoding="utf-8")
    return path


def test_conll_with_docstart_and_iob1(conll_file):
    corpus = data.load(conll_file)
    assert corpus.scheme == "IOB1"
    assert corpus.sentences == [
        ["EU", "rejects", "German", "call", "."],
        ["Peter", "Blackburn", "Anna"],
        ["BRUSSELS"],
    ]
    assert corpus.converted("IOB2")[1] == ["B-PER", "I-PER", "B-PER"]
    assert corpus.converted("BIOES")[0] == ["S-ORG", "O", "S-MISC", "O", "O"]
    assert corpus.lines[1] == [9, 10, 11] and corpus.rows[0][0] == ["EU", "NNP", "I-NP", "I-ORG"]
    assert corpus.entity_types() == ["LOC", "MISC", "ORG", "PER"]


def test_conll_tag_and_word_columns(conll_file):
    chunks = data.load(conll_file, tag_col=3)  # the chunk column, also IOB1
    assert chunks.tags[0][:2] == ["I-NP", "I-VP"] and chunks.scheme == "IOB1"
    pos = data.load(conll_file, word_col=2, with_tags=False)
    assert pos.sentences[0][:2] == ["NNP", "VBZ"] and pos.tags is None
    with pytest.raises(UserError, match=r"eng.sample:3: --tag-col 7 is outside the 4 column"):
        data.load(conll_file, tag_col=7)
    with pytest.raises(UserError, match="needs a column number"):
        data.load(conll_file, tag_col="Tag")


def test_wnut_layout_tab_only_separators(tmp_path):
    sentences = synthetic_sentences(6, seed=1)
    path = write_wnut(tmp_path / "wnut.conll", sentences)
    assert "\n\t\n" in path.read_text()
    corpus = data.load(path)
    assert corpus.scheme == "IOB2" and corpus.separator == "\t"
    assert corpus.sentences == [tokens for tokens, _ in sentences]
    assert corpus.tags == [tags_of(s) for s in sentences]


def test_any_whitespace_only_line_ends_a_sentence(tmp_path):
    path = tmp_path / "odd.conll"
    path.write_text("a\tO\n \t \nb\tB-x\n\r\nc\tO\n   \nd\tO\n", encoding="utf-8")
    assert data.load(path).sentences == [["a"], ["b"], ["c"], ["d"]]


@pytest.mark.parametrize("scheme", ["IOB1", "IOB2", "BIOES"])
def test_schemes_are_detected_and_read_alike(tmp_path, scheme):
    sentences = synthetic_sentences(40, seed=2)
    corpus = data.load(write_conll(tmp_path / "f.conll", sentences, scheme=scheme))
    assert corpus.scheme == scheme
    assert corpus.converted("IOB2") == [tags_of(s) for s in sentences]


def test_gmb_csv(tmp_path):
    sentences = synthetic_sentences(5, seed=3)
    corpus = data.load(write_gmb_csv(tmp_path / "ner_dataset.csv", sentences))
    assert corpus.sentences == [tokens for tokens, _ in sentences]
    assert corpus.tags == [tags_of(s) for s in sentences]
    assert corpus.lines[0][0] == 2
    bad = tmp_path / "bad.csv"
    bad.write_text("Sentence #,Word,Tag\n,The,O\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"bad.csv:2: the first row has no sentence id"):
        data.load(bad)
    with pytest.raises(UserError, match="no column 'Label'"):
        data.load(write_gmb_csv(tmp_path / "x.csv", sentences), tag_col="Label")


@pytest.mark.parametrize(
    ("content", "scheme", "message"),
    [
        ("a B-PER\nb I-PER x\n", None, r"f.conll:2: expected 2 columns \(as on line 1\), found 3"),
        ("a B-PER\nb X-PER\n", None, r"f.conll:2: tag 'X-PER' is not a IOB2 tag"),
        ("a B-PER\nb PER\n", None, r"f.conll:2: tag 'PER' is not O or PREFIX-TYPE"),
        ("a B-PER\n\nb O\nc I-LOC\n", None, r"f.conll:4: tag 'I-LOC' after 'O' \(in IOB2"),
        ("a S-PER\nb B-LOC\n\nc O\n", None, r"f.conll:2: sentence ends after 'B-LOC'"),
        ("a B-LOC\nb O\n", "bioes", r"f.conll:2: tag 'O' after 'B-LOC'"),
        ("a I-PER\n", "iob2", r"f.conll:1: tag 'I-PER' at the sentence start"),
        ("a E-PER\n", "iob2", r"f.conll:1: tag 'E-PER' is not a IOB2 tag"),
        ("onlytoken\n", None, r"f.conll:1: expected a token and a tag column"),
        ("\n\n", None, r"f.conll: no sentences"),
    ],
)
def test_malformed_lines_name_file_and_line(tmp_path, content, scheme, message):
    path = tmp_path / "f.conll"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(UserError, match=message):
        data.load(path, scheme=scheme)


def test_lenient_repairs_and_counts(tmp_path):
    path = tmp_path / "f.conll"
    path.write_text("a B-PER\nb O\nc I-LOC\nd I-LOC\n\ne I-ORG\n", encoding="utf-8")
    with pytest.raises(UserError, match="pass --lenient"):
        data.load(path, scheme="iob2")
    corpus = data.load(path, scheme="iob2", lenient=True)
    assert corpus.tags == [["B-PER", "O", "B-LOC", "I-LOC"], ["B-ORG"]]
    assert corpus.repairs == 2
    # A tag the scheme does not have is not repairable.
    path.write_text("a B-PER\nb E-PER\n", encoding="utf-8")
    with pytest.raises(UserError, match="is not a IOB2 tag"):
        data.load(path, scheme="iob2", lenient=True)


def test_split_is_seeded_and_disjoint(tmp_path):
    corpus = data.load(write_conll(tmp_path / "f.conll", synthetic_sentences(50)))
    train, dev = data.split(corpus, 0.2, seed=3)
    assert (len(train), len(dev)) == (40, 10)
    again = data.split(corpus, 0.2, seed=3)[1]
    assert dev.sentences == again.sentences and dev.lines == again.lines


def test_tokenizer_keeps_offsets_and_splits_like_conll():
    text = (
        "EU rejects German call. I don't think Germany's U.S. firm (Acme) paid $3.5m on 1996-08-30."
    )
    tokens = data.tokenize(text)
    assert [t for t, _, _ in tokens] == [
        "EU", "rejects", "German", "call", ".", "I", "do", "n't", "think", "Germany", "'s",
        "U.S.", "firm", "(", "Acme", ")", "paid", "$", "3.5m", "on", "1996-08-30", ".",
    ]  # fmt: skip
    rng = random.Random(0)
    alphabet = "aZé 9.,'-’\t\n@#/:()\"ß😀"
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        tokens = data.tokenize(text)
        assert all(text[start:end] == token for token, start, end in tokens)
        assert all(token.strip() == token and token for token, _, _ in tokens)
        assert "".join(t for t, _, _ in tokens) == "".join(text.split())
        assert [s for _, s, _ in tokens] == sorted(s for _, s, _ in tokens)
    assert data.tokenize("") == [] and data.tokenize(" \t ") == []


@pytest.mark.skipif(
    not (data_dir() / "conll2003" / "eng.train").is_file()
    or not (data_dir() / "wnut17" / "wnut17train.conll").is_file(),
    reason=f"CoNLL-2003 / WNUT-17 files not found under SEQAPPS_DATA ({data_dir()})",
)
def test_real_files_load_with_the_published_counts():
    conll = data.load(data_dir() / "conll2003" / "eng.train")
    assert (len(conll), sum(map(len, conll.sentences)), conll.scheme) == (14041, 203621, "IOB1")
    spans = [tagging.spans(tags) for tags in conll.tags]
    assert sum(map(len, spans)) == 23499
    wnut = data.load(data_dir() / "wnut17" / "wnut17train.conll")
    assert (len(wnut), sum(map(len, wnut.sentences)), wnut.scheme) == (3394, 62730, "IOB2")
    assert sum(t.startswith("B-") for tags in wnut.tags for t in tags) == 1975
    assert data.load(data_dir() / "wnut17" / "emerging.dev.conll").scheme == "IOB2"
