"""Errors users can cause: one line naming the file/line/column and value, exit 2."""

import pytest
from support.cli import check_one_line, run
from support.sentiment import synthetic_rows, write_csv

from apps.sentiment import evaluate, export, predict, train
from seqapps.cli import run_main

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


def test_non_empty_out_is_refused_then_overwritten(tmp_path, capsys, good_csv):
    out = tmp_path / "run"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    code, err = run(capsys, train, ["--data", str(good_csv), "--out", str(out), *TINY])
    check_one_line(code, err, "is not empty", "--overwrite", "--resume")
    assert (out / "notes.txt").read_text() == "keep me"
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


def test_evaluate_label_the_model_never_saw(trained_run, tmp_path, capsys):
    data = write_csv(tmp_path / "eval.csv", [{"text": "fine", "label": "mixed"}])
    code, err = run(capsys, evaluate, ["--model", str(trained_run), "--data", str(data)])
    check_one_line(code, err, "eval.csv", "['mixed'] were never seen by the model")


def test_predict_input_errors(trained_run, tmp_path, capsys):
    table = write_csv(tmp_path / "in.csv", [{"review": "x"}], ("review",))
    code, err = run(capsys, predict, ["--model", str(trained_run), "--input", str(table)])
    check_one_line(code, err, "in.csv: no column 'text'")
    binary = tmp_path / "in.txt"
    binary.write_bytes(b"ok\n\xff\n")
    code, err = run(capsys, predict, ["--model", str(trained_run), "--input", str(binary)])
    check_one_line(code, err, "in.txt:2: bytes that are not UTF-8")


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
