"""The NER scripts end to end, as users run them (in subprocesses where a fresh one matters)."""

import json
import textwrap

import pytest
from conftest import data_dir
from support.cli import run_ok
from support.ner import TINY

from apps import ner
from seqapps.cli import run_main
from seqapps.text import tagging

# Every test trains a model or starts a process.
pytestmark = pytest.mark.slow

TEXTS = [
    "Maria Garcia visited Rio de Janeiro on Monday.",
    "Globex said Anna would join the board.",
    "",
    "It rained all day in Zanzibar, said Qwxyz Blorf.",
]


def test_run_directory_contents(ner_run):
    names = {p.name for p in ner_run.iterdir()}
    assert {"model.keras", "config.json", "metrics.json", "history.csv", "curves.png"} <= names
    assert "saved_model" in names and "checkpoint" not in names
    config = json.loads((ner_run / "config.json").read_text())
    assert config["tag_scheme"] == "BIOES" and config["data_schemes"]["data"] == "IOB1"
    assert config["tags"][:5] == ["O", "B-LOC", "I-LOC", "E-LOC", "S-LOC"]
    assert "apps.ner.train" in config["command"] and config["options"]["crf"] is True
    metrics = json.loads((ner_run / "metrics.json").read_text())
    assert metrics["dev"]["f1"] > 0.95, metrics["dev"]
    assert len((ner_run / "history.csv").read_text().splitlines()) == 5


def run_script(capsys, module, argv):
    """Run a script's `main` in this process; returns its stdout (it must exit 0)."""
    with pytest.raises(SystemExit) as exit_info:
        run_main(module.main, argv, prog=module.__name__)
    captured = capsys.readouterr()
    assert exit_info.value.code == 0, captured.err
    return captured.out


def test_predict_text_table_jsonl_and_offsets(ner_run, run_python, capsys):
    from apps.ner import predict

    table = run_script(capsys, predict, ["--model", str(ner_run), *TEXTS[:3]])
    assert table.split("\n") == [
        "[Maria Garcia PER] visited [Rio de Janeiro LOC] on Monday.",
        "[Globex ORG] said [Anna PER] would join the board.",
        "",
        "",
    ]
    piped = run_python(
        ["-m", "apps.ner.predict", "--model", str(ner_run / "model.keras"), "--format", "jsonl"],
        input="\n".join(TEXTS) + "\n",
    )
    records = [json.loads(line) for line in piped.stdout.splitlines()]
    assert [r["text"] for r in records] == TEXTS
    assert records[2] == {"text": "", "tokens": [], "tags": [], "scores": [], "entities": []}
    for record in records:
        assert len(record["tokens"]) == len(record["tags"]) == len(record["scores"])
        for entity in record["entities"]:
            assert record["text"][entity["start"] : entity["end"]] == entity["text"]
            assert 0.0 < entity["score"] <= 1.0
    first = records[0]["entities"]
    assert [(e["text"], e["type"], e["start"], e["end"]) for e in first] == [
        ("Maria Garcia", "PER", 0, 12),
        ("Rio de Janeiro", "LOC", 21, 35),
    ]


def test_predict_tokenized_conll_appends_a_column(ner_run, ner_files, capsys):
    from apps.ner import predict

    argv = ["--model", str(ner_run), "--tokenized", "--input", str(ner_files[1])]
    output = run_script(capsys, predict, argv).split("\n")
    source = ner_files[1].read_text().split("\n")[2:]  # without the DOCSTART line
    assert len(output) == len(source)
    for given, tagged in zip(source, output):
        assert tagged == "" if not given else tagged.rsplit(" ", 1)[0] == given
        if given:
            assert tagging.split_tag(tagged.rsplit(" ", 1)[1])[0] in ("O", "B", "I")
    argv = ["--model", str(ner_run), "--tokenized", "--output-scheme", "bioes"]
    bioes = run_script(capsys, predict, [*argv, "Anna visited New York"])
    assert bioes == "Anna S-PER\nvisited O\nNew B-LOC\nYork E-LOC\n\n"


def test_evaluate_prints_json_equal_to_seqeval(ner_run, ner_files, tmp_path, capsys):
    from seqeval.metrics import classification_report
    from seqeval.scheme import IOB2

    conll_out = tmp_path / "eval.conll"
    argv = ["--model", ner_run, "--data", ner_files[1], "--conll-out", conll_out]
    stdout, stderr = run_ok(capsys, "apps.ner.evaluate", argv)
    report = json.loads(stdout)
    assert report["sentences"] == 60 and report["data_scheme"] == "IOB1"
    assert "overall" in stderr and "precision" in stderr
    gold, predicted = [[]], [[]]
    for line in conll_out.read_text().split("\n"):
        if not line:
            gold.append([]), predicted.append([])
            continue
        _, g, p = line.split(" ")
        gold[-1].append(g), predicted[-1].append(p)
    gold, predicted = [s for s in gold if s], [s for s in predicted if s]
    assert len(gold) == 60
    theirs = classification_report(gold, predicted, mode="strict", scheme=IOB2, output_dict=True)
    assert report["f1"] == pytest.approx(theirs["micro avg"]["f1-score"])
    assert report["precision"] == pytest.approx(theirs["micro avg"]["precision"])
    for entity_type, row in report["per_type"].items():
        assert row["f1"] == pytest.approx(theirs[entity_type]["f1-score"])
        assert row["support"] == theirs[entity_type]["support"]


def test_evaluate_scores_mentions_of_words_never_seen_in_training(ner_model, ner_files, tmp_path):
    import re

    from apps.ner import data as ner_data
    from apps.ner.evaluation import evaluate_corpus
    from apps.ner.model import describe
    from apps.ner.tagger import tag_sentences
    from seqapps.text import tagging

    # The dev file with the entity words of every other sentence renamed to words that
    # training never saw: some mentions are new for sure, the others are as they were.
    lines, sentence = [], 0
    for line in ner_files[1].read_text().splitlines():
        fields = line.split()
        if not fields:
            sentence += 1
        elif sentence % 2 and fields[-1] != "O" and not line.startswith("-DOCSTART-"):
            fields[0] = f"Qzxv{len(lines)}"
        lines.append(" ".join(fields))
    renamed = tmp_path / "renamed.conll"
    renamed.write_text("\n".join(lines) + "\n")
    corpus = ner_data.load(str(renamed))
    scores = evaluate_corpus(ner_model, corpus)
    known = set(describe(ner_model)["features"].words)

    def new(token):
        return re.sub(r"\d", "0", token.lower()) not in known

    gold = corpus.converted("IOB2")
    predicted = [r["tags"] for r in tag_sentences(ner_model, corpus.sentences)]
    expected = {"gold": 0, "predicted": 0, "correct": 0}
    for tokens, gold_tags, predicted_tags in zip(corpus.sentences, gold, predicted):
        keep = {s for s in tagging.spans(gold_tags) if all(map(new, tokens[s[1] : s[2]]))}
        found = {s for s in tagging.spans(predicted_tags) if all(map(new, tokens[s[1] : s[2]]))}
        expected["gold"] += len(keep)
        expected["predicted"] += len(found)
        expected["correct"] += len(keep & found)
    unseen = scores["unseen_mentions"]
    assert unseen["gold_entities"] == expected["gold"] > 0
    assert unseen["predicted_entities"] == expected["predicted"]
    assert unseen["correct_entities"] == expected["correct"]
    assert unseen["gold_entities"] < scores["gold_entities"]


def test_fresh_process_load_gives_the_same_tags(ner_run, ner_model, run_python):
    script = textwrap.dedent(f"""
        import json, sys, keras, seqapps
        model = keras.saving.load_model({str(ner_run / "model.keras")!r})
        assert not any(m.startswith("apps") for m in sys.modules), "loading needed apps"
        from apps import ner
        print(json.dumps(ner.predict_texts(model, {TEXTS!r})))
    """)
    fresh = json.loads(run_python(["-c", script]).stdout)
    here = ner.predict_texts(ner_model, TEXTS)
    assert [r["tags"] for r in fresh] == [r["tags"] for r in here]
    for a, b in zip(fresh, here):
        assert a["scores"] == pytest.approx(b["scores"], abs=1e-5)


def test_export_script_and_saved_model_without_seqapps(
    ner_run, ner_model, run_python, tmp_path, capsys
):
    import apps.ner.export as export  # the script; `apps.ner.export` is the API's function

    out = tmp_path / "exported"
    written = run_script(capsys, export, ["--model", str(ner_run), "--out", str(out)])
    assert "Wrote SavedModel" in written
    with pytest.raises(SystemExit) as exit_info:
        run_main(export.main, ["--model", str(ner_run), "--out", str(out)])
    assert exit_info.value.code == 2 and "--overwrite" in capsys.readouterr().err
    sentences = [["Anna", "visited", "Paris"], ["Zork", "said", "Globex", "rose", "."], ["EU"]]
    serving = textwrap.dedent(f"""
        import json, sys
        import tensorflow as tf
        loaded = tf.saved_model.load({str(out)!r})
        texts = tf.constant({TEXTS!r})
        served = loaded.signatures["serving_default"](text=texts)
        sentences = {sentences!r}
        width = max(map(len, sentences))
        padded = [s + [""] * (width - len(s)) for s in sentences]
        tagged = loaded.signatures["tag_tokens"](
            tokens=tf.constant(padded), lengths=tf.constant([len(s) for s in sentences])
        )
        assert not any(m.startswith(("seqapps", "apps")) for m in sys.modules)
        def rows(tensor, lengths):
            return [[x.decode() for x in row[:n]] for row, n in zip(tensor.numpy(), lengths)]
        lengths = served["lengths"].numpy().tolist()
        print(json.dumps({{
            "tokens": rows(served["tokens"], lengths),
            "tags": rows(served["tags"], lengths),
            "scores": [r[:n] for r, n in zip(served["scores"].numpy().tolist(), lengths)],
            "token_tags": rows(tagged["tags"], [len(s) for s in sentences]),
            "token_scores": tagged["scores"].numpy().tolist(),
            "padding": [x.decode() for x in tagged["tags"].numpy()[2]],
        }}))
    """)
    result = json.loads(run_python(["-c", serving]).stdout)
    records = ner.predict_texts(ner_model, TEXTS)
    assert result["tokens"] == [r["tokens"] for r in records]
    assert result["tags"] == [r["tags"] for r in records]
    for served, record in zip(result["scores"], records):
        assert served == pytest.approx(record["scores"], abs=1e-5)
    expected = ner.tag_sentences(ner_model, sentences)
    assert result["token_tags"] == [r["tags"] for r in expected]
    for served, record, sentence in zip(result["token_scores"], expected, sentences):
        assert served[: len(sentence)] == pytest.approx(record["scores"], abs=1e-5)
        assert not any(served[len(sentence) :])
    assert result["padding"][1:] == ["", "", "", ""]  # no tag after a sentence's end


def tiny_options():
    """`support.ner.TINY` as Python API keyword arguments."""
    return {
        flag[2:].replace("-", "_"): float(value) if "." in value else int(value)
        for flag, value in zip(TINY[::2], TINY[1::2])
    }


def train_tiny(out, ner_files, **overrides):
    """Three epochs of the tiny model on the synthetic files, without export; its metrics."""
    options = {**tiny_options(), **overrides}
    return ner.train_model(
        data=str(ner_files[0]),
        dev=str(ner_files[1]),
        out=str(out),
        epochs=3,
        no_export=True,
        **options,
    )


def test_softmax_tagger_and_iob2_tag_scheme(tmp_path, ner_files):
    out = tmp_path / "softmax"
    metrics = train_tiny(out, ner_files, crf=False, tag_scheme="iob2")
    assert metrics["dev"]["f1"] > 0.9, metrics["dev"]
    model = ner.load(out)
    from apps.ner.model import describe

    info = describe(model)
    assert info["crf"] is False and info["scheme"] == "IOB2" and "E-PER" not in info["tags"]
    record = ner.predict_texts(model, ["Wei Chen visited Lagos on Monday."])[0]
    assert [(e["text"], e["type"]) for e in record["entities"]] == [
        ("Wei Chen", "PER"),
        ("Lagos", "LOC"),
    ]
    assert not (out / "saved_model").exists()


@pytest.mark.skipif(
    not (data_dir() / "conll2003" / "eng.testa").is_file(),
    reason=f"CoNLL-2003 eng.testa not found under SEQAPPS_DATA ({data_dir()})",
)
def test_short_run_on_real_conll(tmp_path, capsys):
    testa = data_dir() / "conll2003" / "eng.testa"
    lines, blanks = [], 0
    for line in testa.read_text(encoding="utf-8").split("\n"):
        lines.append(line)
        blanks += not line.strip()
        if blanks > 520:  # 500 sentences plus the blank lines after DOCSTART
            break
    subset = tmp_path / "testa500.conll"
    subset.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "conll"
    _, stderr = run_ok(
        capsys,
        "apps.ner.train",
        ["--data", subset, "--dev", subset, "--out", out, "--epochs", "1", "--no-export",
         "--units", "32", "--word-dim", "32", "--char-units", "16", "--batch-size", "16",
         "--lr", "0.02"],
    )  # fmt: skip
    assert "(IOB1)" in stderr
    scores = ner.evaluate_file(ner.load(out), testa)
    assert scores["sentences"] == 3250 and scores["gold_entities"] == 5942
    assert scores["data_scheme"] == "IOB1" and set(scores["per_type"]) == {
        "LOC",
        "MISC",
        "ORG",
        "PER",
    }
    assert scores["f1"] > 0.1, scores  # one epoch on 500 sentences: learning has begun


def test_embeddings_file_initialises_word_vectors(tmp_path, ner_files, capsys):
    from apps.ner import train

    vectors = tmp_path / "vectors.txt"
    vectors.write_text("paris 0.5 0.5 0.5\nberlin -0.5 0.5 0.1\nthe 0.1 0 0\n", encoding="utf-8")
    out = tmp_path / "run"
    argv = ["--data", str(ner_files[0]), "--out", str(out), "--embeddings", str(vectors)]
    argv += [*TINY, "--epochs", "1", "--no-export"]
    with pytest.raises(SystemExit) as exit_info:
        run_main(train.main, argv)
    err = capsys.readouterr().err
    assert exit_info.value.code == 0, err
    assert "Word vectors for 3 of" in err
    config = json.loads((out / "config.json").read_text())
    assert config["options"]["word_dim"] == 3


def test_a_character_convolution_alone_encodes_the_characters(tmp_path, ner_files):
    out = tmp_path / "cnn"
    metrics = train_tiny(out, ner_files, char_units=0, char_cnn_filters=8, char_cnn_width=2)
    assert metrics["dev"]["f1"] > 0.9, metrics["dev"]
    encoder = ner.load(out).get_layer("ner_core").get_layer("char_encoder")
    assert (encoder.units, encoder.cnn_filters, encoder.cnn_width) == (0, 8, 2)
    recorded = json.loads((out / "config.json").read_text(encoding="utf-8"))
    assert recorded["options"]["char_cnn_filters"] == 8
    assert recorded["options"]["char_cnn_width"] == 2
