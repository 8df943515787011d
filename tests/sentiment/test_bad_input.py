"""Errors users can cause: one line naming the file/line/column and value, exit 2."""

import csv
import importlib
import io
import json
import shutil
import sys

import pytest
from support.cli import check_one_line, run
from support.foreign import expected_app, foreign_model_argv, foreign_scripts
from support.sentiment import synthetic_rows, write_csv

# The script module: `from apps.sentiment import export` is the Python API's function.
import apps.sentiment.export as export
from apps.sentiment import classify, evaluate, predict, train
from seqapps.cli import run_main
from seqapps.text.tables import read_inputs, write_records

TINY = ["--epochs", "1", "--units", "4", "--embedding-dim", "4", "--no-export"]


@pytest.fixture
def good_csv(tmp_path):
    return write_csv(tmp_path / "good.csv", synthetic_rows(60, seed=3))


@pytest.mark.parametrize(
    ("content", "fragments"),
    [
        (b"review,label\nok,pos\nbad,neg\n", ["bad.csv: no column 'text'", "review, label"]),
        (b"", ["bad.csv: file is empty"]),
        (b"text,label\n", ["bad.csv: no rows"]),
        (b"text,label\ncaf\xe9,pos\nx,neg\n", ["bad.csv:2: bytes that are not UTF-8"]),
        (b"text,label\nonly,pos\nagain,pos\nmore,pos\n", ["needs at least two classes", "['pos']"]),
    ],
)
def test_bad_training_data_leaves_no_run_dir(tmp_path, capsys, content, fragments):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(content)
    out = tmp_path / "run"
    code, err = run(capsys, train, ["--data", str(bad), "--out", str(out), *TINY])
    check_one_line(code, err, *fragments)
    assert not out.exists()


def test_bad_tree_file(tmp_path, capsys):
    trees = tmp_path / "trees.txt"
    trees.write_text("(3 (2 good) (3 film))\n(1 (2 bad) (1 film)\n")
    out = tmp_path / "run"
    code, err = run(capsys, train, ["--data", str(trees), "--out", str(out), *TINY])
    check_one_line(code, err, "trees.txt:2: tree does not parse")
    assert not out.exists()


def test_dev_label_unseen_in_training(tmp_path, capsys, good_csv):
    dev = write_csv(tmp_path / "dev.csv", [{"text": "x", "label": "neutral"}])
    out = tmp_path / "run"
    code, err = run(
        capsys, train, ["--data", str(good_csv), "--dev", str(dev), "--out", str(out), *TINY]
    )
    check_one_line(code, err, "dev.csv", "['neutral']", "do not occur in the training data")
    assert not out.exists()


@pytest.mark.slow
def test_non_empty_out_is_refused_then_overwritten(tmp_path, capsys, good_csv):
    out = tmp_path / "run"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    code, err = run(capsys, train, ["--data", str(good_csv), "--out", str(out), *TINY])
    check_one_line(code, err, "is not empty", "--overwrite", "--resume")
    assert (out / "notes.txt").read_text() == "keep me"
    # --overwrite replaces runs only: a folder that holds no run is left alone.
    code, err = run(
        capsys, train, ["--data", str(good_csv), "--out", str(out), "--overwrite", *TINY]
    )
    check_one_line(code, err, "not a run directory", "notes.txt")
    assert (out / "notes.txt").read_text() == "keep me"
    (out / "config.json").write_text("{}")
    with pytest.raises(SystemExit) as exit_info:
        run_main(train.main, ["--data", str(good_csv), "--out", str(out), "--overwrite", *TINY])
    assert exit_info.value.code == 0
    assert (out / "model.keras").exists() and not (out / "notes.txt").exists()


@pytest.mark.parametrize(
    ("flags", "fragment"),
    [
        (["--epochs", "0"], "--epochs must be a positive integer; received 0"),
        (["--dropout", "1.5"], "--dropout must be in [0, 1); received 1.5"),
        (["--lr", "-1"], "--lr must be positive; received -1.0"),
        (["--resume", "--overwrite"], "contradict"),
    ],
)
def test_bad_flags(tmp_path, capsys, good_csv, flags, fragment):
    out = tmp_path / "run"
    code, err = run(capsys, train, ["--data", str(good_csv), "--out", str(out), *TINY, *flags])
    check_one_line(code, err, fragment)
    assert not out.exists()


def test_resume_without_checkpoint(tmp_path, capsys, good_csv):
    code, err = run(
        capsys, train, ["--data", str(good_csv), "--out", str(tmp_path), "--resume", *TINY]
    )
    check_one_line(code, err, "holds no checkpoint")


@pytest.mark.parametrize("module", [predict, evaluate, export])
def test_model_path_that_is_not_a_model(tmp_path, capsys, good_csv, module):
    not_model = tmp_path / "notes.keras"
    not_model.write_text("hello")
    extra = {"predict": ["hi"], "evaluate": ["--data", str(good_csv)]}
    extra["export"] = ["--out", str(tmp_path / "x")]
    for bad, fragment in [
        (not_model, "notes.keras is not a Keras model file"),
        (tmp_path, "has no model.keras (not a run directory)"),
        (tmp_path / "missing", "no such file or directory"),
        (good_csv, "expected a run directory or a .keras file"),
    ]:
        argv = ["--model", str(bad), *extra[module.__name__.rsplit(".", 1)[1]]]
        code, err = run(capsys, module, argv)
        check_one_line(code, err, fragment, str(bad))


@pytest.mark.slow
def test_evaluate_label_the_model_never_saw(trained_run, tmp_path, capsys):
    data = write_csv(tmp_path / "eval.csv", [{"text": "fine", "label": "mixed"}])
    code, err = run(capsys, evaluate, ["--model", str(trained_run), "--data", str(data)])
    check_one_line(code, err, "eval.csv", "['mixed'] were never seen by the model")


@pytest.mark.slow
def test_predict_input_errors(trained_run, tmp_path, capsys):
    table = write_csv(tmp_path / "in.csv", [{"review": "x"}], ("review",))
    code, err = run(capsys, predict, ["--model", str(trained_run), "--input", str(table)])
    check_one_line(code, err, "in.csv: no column 'text'")
    binary = tmp_path / "in.txt"
    binary.write_bytes(b"ok\n\xff\n")
    code, err = run(capsys, predict, ["--model", str(trained_run), "--input", str(binary)])
    check_one_line(code, err, "in.txt:2: bytes that are not UTF-8")


@pytest.mark.slow
def test_script_error_in_a_real_process(run_python, tmp_path):
    result = run_python(
        [
            "-m",
            "apps.sentiment.train",
            "--data",
            str(tmp_path / "nope.csv"),
            "--out",
            str(tmp_path / "run"),
        ],
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].endswith("nope.csv: no such file or directory")
    assert "Traceback" not in result.stderr and not (tmp_path / "run").exists()


def run_with_output(capsys, module, argv):
    """`(exit status, stdout, stderr)` of `python -m <module> argv`, run in this process."""
    with pytest.raises(SystemExit) as exit_info:
        run_main(module.main, argv, prog=module.__name__)
    captured = capsys.readouterr()
    return exit_info.value.code, captured.out, captured.err


@pytest.mark.parametrize("module", [predict, evaluate])
@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("0", "--batch-size must be a positive integer; received 0"),
        ("-1", "--batch-size must be a positive integer; received -1"),
        ("many", "--batch-size must be an integer; received 'many'"),
    ],
)
def test_batch_size_is_checked_while_parsing(tmp_path, capsys, module, value, fragment):
    # The model does not exist: the flag is refused before anything is read.
    argv = ["--model", str(tmp_path / "missing"), "--batch-size", value]
    argv += ["some text"] if module is predict else ["--data", str(tmp_path / "missing.csv")]
    code, err = run(capsys, module, argv)
    check_one_line(code, err, fragment)


def test_empty_input_file_and_stdin_have_no_lines(tmp_path, monkeypatch):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    assert read_inputs([], str(empty), "text") == []
    one_empty_line = tmp_path / "blank.txt"
    one_empty_line.write_bytes(b"\n")
    assert read_inputs([], str(one_empty_line), "text") == [""]
    crlf = tmp_path / "crlf.txt"
    crlf.write_bytes(b"a\r\nb\r\n")
    assert read_inputs([], str(crlf), "text") == ["a", "b"]
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"")))
    assert read_inputs([], None, "text") == []


def test_table_output_escapes_control_characters_and_csv_jsonl_keep_them(capsys):
    text = "red \x1b[31malert\x1b[0m\tand\rbell\x07 caf\u00e9 \u202eevil"
    records = [{"label": "pos", "text": text}]
    write_records(records, ["label", "text"], "table")
    table = capsys.readouterr().out
    assert "\x1b" not in table and "\x07" not in table and "\r" not in table
    assert "\u202e" not in table and "\t" not in table
    assert table.splitlines()[1] == (
        "pos    red \\x1b[31malert\\x1b[0m\\tand\\rbell\\x07 caf\u00e9 \\u202eevil"
    )
    write_records(records, ["label", "text"], "jsonl")
    assert json.loads(capsys.readouterr().out)["text"] == text
    write_records(records, ["label", "text"], "csv")
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out, newline="")))
    assert rows == [{"label": "pos", "text": text}]


@pytest.mark.slow
def test_predict_api_refuses_a_batch_size_below_one(trained_run):
    from apps import sentiment

    model = sentiment.load(trained_run)
    texts = ["superb story", "terrible plot", "the film", ""]
    for bad in (0, -1):
        with pytest.raises(ValueError, match="batch_size must be a positive integer"):
            classify.predict_texts(model, texts, bad)
    one_by_one = classify.predict_texts(model, texts, 1)
    together = classify.predict_texts(model, texts, 256)
    for single, batched in zip(one_by_one, together):
        assert single["label"] == batched["label"]
        assert single["confidence"] == pytest.approx(batched["confidence"], abs=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("script", foreign_scripts("sentiment"))
def test_other_apps_name_a_sentiment_model(trained_run, tmp_path, capsys, script):
    module = importlib.import_module(script)
    wanted = expected_app(script)
    code, err = run(capsys, module, foreign_model_argv(script, trained_run, tmp_path))
    check_one_line(code, err, f"this is a sentiment model (apps.sentiment), not {wanted}")
    assert not (tmp_path / "exported").exists() and not (tmp_path / "solo.mid").exists()


@pytest.mark.slow
def test_empty_input_gives_no_predictions(trained_run, tmp_path, capsys, monkeypatch):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    base = ["--model", str(trained_run), "--input", str(empty)]
    for output_format in ("table", "jsonl"):
        code, out, err = run_with_output(capsys, predict, [*base, "--format", output_format])
        assert (code, out) == (0, ""), err
    code, out, err = run_with_output(capsys, predict, [*base, "--format", "csv"])
    assert (code, out.splitlines()) == (0, ["text,label,confidence"]), err
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"")))
    code, out, err = run_with_output(
        capsys, predict, ["--model", str(trained_run), "--format", "jsonl"]
    )
    assert (code, out) == (0, ""), err
    # One empty line is one input, the empty text.
    blank = tmp_path / "blank.txt"
    blank.write_bytes(b"\n")
    code, out, err = run_with_output(
        capsys, predict, ["--model", str(trained_run), "--input", str(blank), "--format", "jsonl"]
    )
    assert code == 0 and [json.loads(line)["text"] for line in out.splitlines()] == [""]


@pytest.mark.slow
def test_predict_table_escapes_control_characters(trained_run, capsys):
    text = "superb \x1b[2Jfilm\x07"
    code, out, err = run_with_output(capsys, predict, ["--model", str(trained_run), text])
    assert code == 0, err
    assert "\x1b" not in out and "\x07" not in out
    assert out.splitlines()[1].endswith("superb \\x1b[2Jfilm\\x07")
    code, out, err = run_with_output(
        capsys, predict, ["--model", str(trained_run), "--format", "jsonl", text]
    )
    assert json.loads(out)["text"] == text


@pytest.mark.slow
def test_evaluate_keeps_the_training_confusion_plot(trained_run, tmp_path, capsys, sentiment_csv):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    for name in ("model.keras", "confusion.png"):
        shutil.copy2(trained_run / name, run_dir / name)
    training_plot = (run_dir / "confusion.png").read_bytes()
    code, out, err = run_with_output(
        capsys, evaluate, ["--model", str(run_dir), "--data", str(sentiment_csv[0])]
    )
    assert code == 0, err
    assert (run_dir / "confusion.png").read_bytes() == training_plot
    assert (run_dir / evaluate.EVAL_PLOT).read_bytes()[:4] == b"\x89PNG"
    assert f"Wrote {run_dir / 'confusion-eval.png'}" in err
    json.loads(out)
