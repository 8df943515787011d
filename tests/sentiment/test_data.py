"""Sentiment data loading: SST trees, tables, class folders, and their errors."""

import pytest

from apps.sentiment import data
from seqapps.errors import UserError

TREES = (
    "(3 (2 (2 The) (2 Rock)) (4 (3 (2 is) (4 great)) (2 .)))\n"
    "(1 (2 (2 It) (2 (2 do) (2 n't))) (1 (1 work) (2 (2 -LRB-) (2 (2 8\u00a01\\/2) (2 -RRB-)))))\n"
    "(2 (2 A) (2 film))\n"
)


@pytest.fixture
def trees(tmp_path):
    path = tmp_path / "train.txt"
    path.write_text(TREES, encoding="utf-8")
    return path


def test_sst_sentences_five_classes(trees):
    loaded = data.load(trees, classes=5)
    assert loaded.texts[0] == "The Rock is great ."
    assert loaded.labels == ["positive", "negative", "neutral"]
    assert loaded.texts[1] == "It do n't work ( 8\u00a01/2 )"


def test_sst2_drops_neutral(trees):
    loaded = data.load(trees, classes=2)
    assert loaded.labels == ["positive", "negative"]
    assert "A film" not in loaded.texts


def test_sst_phrases_are_every_labelled_node_once(trees):
    loaded = data.load(trees, classes=5, sst_phrases=True)
    assert loaded.texts[:3] == ["The Rock is great .", "It do n't work ( 8\u00a01/2 )", "A film"]
    pairs = dict(zip(loaded.texts, loaded.labels))
    assert pairs["great"] == "very positive"
    assert pairs["is great"] == "positive"
    assert pairs["work"] == "negative"
    assert len(loaded.texts) == len(set(loaded.texts))
    with_neutral = len(loaded)
    assert len(data.load(trees, classes=2, sst_phrases=True)) < with_neutral


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("(3 (2 The) (2 Rock)", r"expected '\)'"),
        ("(x (2 The))", "expected an integer label"),
        ("(3 (2 The)) extra", "text after the tree"),
        ("(3 (2 ))", "empty or malformed leaf"),
    ],
)
def test_bad_tree_names_file_line_and_column(tmp_path, line, message):
    path = tmp_path / "bad.txt"
    path.write_text("(2 (2 fine) (2 tree))\n" + line + "\n", encoding="utf-8")
    with pytest.raises(UserError, match=rf"bad.txt:2: tree does not parse: {message} at column"):
        data.load(path)


def test_table_formats_and_columns(tmp_path):
    csv_path = tmp_path / "a.csv"
    csv_path.write_text('review,stars\n"Good, really",5\nMeh,2\n', encoding="utf-8")
    loaded = data.load(csv_path, text_col="review", label_col="stars")
    assert loaded.texts == ["Good, really", "Meh"] and loaded.labels == ["5", "2"]
    tsv_path = tmp_path / "a.tsv"
    tsv_path.write_text('text\tlabel\nsays "hi"\tpos\n', encoding="utf-8")
    assert data.load(tsv_path).texts == ['says "hi"']
    jsonl_path = tmp_path / "a.jsonl"
    jsonl_path.write_text('{"text": "x", "label": 1}\n\n{"text": "y", "label": 0}\n')
    assert data.load(jsonl_path).labels == ["1", "0"]


def test_missing_column_lists_columns(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("review,label\nok,1\n")
    with pytest.raises(UserError, match=r"a.csv: no column 'text'; columns are review, label"):
        data.load(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "file is empty"),
        (b"text,label\n", "no rows"),
        (b"text,label\n\xff\xfe,1\n", "not UTF-8"),
    ],
)
def test_bad_files(tmp_path, content, message):
    path = tmp_path / "a.csv"
    path.write_bytes(content)
    with pytest.raises(UserError, match=message):
        data.load(path)


def test_bad_jsonl_line_is_named(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text('{"text": "x", "label": 1}\n{oops\n')
    with pytest.raises(UserError, match=r"a.jsonl:2: not valid JSON"):
        data.load(path)


def test_class_folders(tmp_path):
    for label, texts in {"neg": ["bad", "awful"], "pos": ["good"]}.items():
        (tmp_path / label).mkdir()
        for i, text in enumerate(texts):
            (tmp_path / label / f"{i}.txt").write_text(text + "\n")
    loaded = data.load(tmp_path)
    assert sorted(zip(loaded.labels, loaded.texts)) == [
        ("neg", "awful"),
        ("neg", "bad"),
        ("pos", "good"),
    ]


def test_label_order_and_ordinal():
    numeric = data.LabelledTexts(["a", "b", "c"], ["10", "2", "1"], "x")
    assert data.label_names(numeric) == ["1", "2", "10"]
    assert data.is_ordinal(["1", "2", "10"])
    assert not data.is_ordinal(["neg", "pos"])
    assert data.is_ordinal(list(data.SST5_LABELS))


def test_seeded_split_is_reproducible():
    full = data.LabelledTexts([str(i) for i in range(50)], ["a", "b"] * 25, "x")
    train_a, dev_a = data.split(full, 0.2, seed=3)
    train_b, dev_b = data.split(full, 0.2, seed=3)
    assert dev_a.texts == dev_b.texts and len(dev_a) == 10
    assert not set(train_a.texts) & set(dev_a.texts)


def test_all_phrase_occurrences_keeps_duplicates(tmp_path):
    path = tmp_path / "trees.txt"
    path.write_text("(3 (2 a) (3 good))\n(4 (2 a) (4 (3 good) (4 film)))\n", encoding="utf-8")
    unique = data.read_sst(path, classes=5, phrases=True)
    every = data.read_sst(path, classes=5, phrases=True, unique_phrases=False)
    assert unique.texts == ["a good", "a good film", "a", "good", "good film", "film"]
    assert every.texts == ["a good", "a good film", "a", "good", "a", "good film", "good", "film"]
    assert every.labels[:2] == ["positive", "very positive"]
    assert every.labels.count("positive") == 3
