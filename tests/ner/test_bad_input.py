"""Errors users can cause: one line naming the file/line and value, exit 2, no traceback."""

import argparse
import importlib
import io
import json
import sys

import pytest
from support.cli import check_one_line, run
from support.foreign import foreign_model_argv, foreign_scripts
from support.ner import synthetic_sentences, write_conll

# The script module: `from apps.ner import export` is the Python API's function.
import apps.ner.export as export
from apps.ner import evaluate, predict, train
from seqapps.cli import run_main

QUICK = ["--epochs", "1", "--units", "4", "--word-dim", "4", "--char-units", "2", "--no-export"]


@pytest.fixture
def good_file(tmp_path):
    return write_conll(tmp_path / "good.conll", synthetic_sentences(30, seed=5))


@pytest.mark.parametrize(
    ("content", "fragments"),
    [
        (b"a B-PER\nb I-PER extra\n", ["bad.conll:2: expected 2 columns (as on line 1), found 3"]),
        (b"a B-PER\nb Q-PER\n", ["bad.conll:2: tag 'Q-PER' is not a IOB2 tag"]),
        (b"a B-PER\n\nb O\nc I-PER\n", ["bad.conll:4: tag 'I-PER' after 'O'", "--lenient"]),
        (b"a O\nb O\n\nc O\n", ["bad.conll: no entities in the training data"]),
        (b"caf\xe9 O\n", ["bad.conll:1: bytes that are not UTF-8"]),
        (b"", ["bad.conll: no sentences"]),
    ],
)
def test_bad_training_data_leaves_no_run_dir(tmp_path, capsys, content, fragments):
    bad = tmp_path / "bad.conll"
    bad.write_bytes(content)
    out = tmp_path / "run"
    code, err = run(capsys, train, ["--data", str(bad), "--out", str(out), *QUICK])
    check_one_line(code, err, *fragments)
    assert not out.exists()


def test_dev_type_unseen_in_training(tmp_path, capsys, good_file):
    dev = tmp_path / "dev.conll"
    dev.write_text("Monday B-DATE\n", encoding="utf-8")
    out = tmp_path / "run"
    code, err = run(
        capsys, train, ["--data", str(good_file), "--dev", str(dev), "--out", str(out), *QUICK]
    )
    check_one_line(code, err, "dev.conll", "['DATE'] do not occur in the training data")
    assert not out.exists()


@pytest.mark.parametrize(
    ("flags", "fragment"),
    [
        (["--epochs", "0"], "--epochs must be a positive integer; received 0"),
        (["--char-units", "-1"], "--char-units must be >= 0; received -1"),
        (["--singleton-unk", "1.5"], "--singleton-unk must be in [0, 1); received 1.5"),
        (["--max-word-chars", "1"], "--max-word-chars must be >= 2"),
        (["--tag-col", "Tag"], "--tag-col 'Tag': a CoNLL file needs a column number"),
        (["--sentence-col", "id"], "--sentence-col applies to CSV/TSV/JSONL tables only"),
        (["--embeddings", "/nonexistent/vectors.txt"], "--embeddings /nonexistent/vectors.txt"),
    ],
)
def test_bad_flags(tmp_path, capsys, good_file, flags, fragment):
    out = tmp_path / "run"
    code, err = run(capsys, train, ["--data", str(good_file), "--out", str(out), *QUICK, *flags])
    check_one_line(code, err, fragment)
    assert not out.exists()


@pytest.mark.parametrize("module", [predict, evaluate, export])
def test_model_path_that_is_not_an_ner_model(tmp_path, capsys, good_file, module):
    import keras

    other = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)], name="plain")
    other.save(tmp_path / "other.keras")
    not_model = tmp_path / "notes.keras"
    not_model.write_text("hello")
    extra = {
        "predict": ["hi"],
        "evaluate": ["--data", str(good_file)],
        "export": ["--out", str(tmp_path / "x")],
    }[module.__name__.rsplit(".", 1)[1]]
    for bad, fragment in [
        (tmp_path / "other.keras", "not an NER model (a Keras model named 'plain'"),
        (not_model, "notes.keras is not a Keras model file"),
        (tmp_path, "has no model.keras (not a run directory)"),
        (tmp_path / "missing", "no such file or directory"),
    ]:
        code, err = run(capsys, module, ["--model", str(bad), *extra])
        check_one_line(code, err, fragment, str(bad))


@pytest.mark.slow
def test_evaluate_and_predict_input_errors(ner_run, tmp_path, capsys):
    unseen = tmp_path / "unseen.conll"
    unseen.write_text("Monday B-DATE\n", encoding="utf-8")
    code, err = run(capsys, evaluate, ["--model", str(ner_run), "--data", str(unseen)])
    check_one_line(code, err, "unseen.conll", "['DATE'] were never seen by the model")
    ragged = tmp_path / "ragged.conll"
    ragged.write_text("a NN\nb\n", encoding="utf-8")
    argv = ["--model", str(ner_run), "--tokenized", "--input", str(ragged)]
    code, err = run(capsys, predict, argv)
    check_one_line(code, err, "ragged.conll:2: expected 2 columns")
    code, err = run(capsys, predict, ["--model", str(ner_run), "--format", "conll", "x"])
    check_one_line(code, err, "--format conll needs --tokenized input")
    binary = tmp_path / "in.txt"
    binary.write_bytes(b"ok\n\xff\n")
    code, err = run(capsys, predict, ["--model", str(ner_run), "--input", str(binary)])
    check_one_line(code, err, "in.txt:2: bytes that are not UTF-8")
    code, err = run(capsys, predict, ["--model", str(ner_run), "--batch-size", "0", "x"])
    check_one_line(code, err, "--batch-size must be a positive integer")


@pytest.mark.slow
def test_script_error_in_a_real_process(run_python, tmp_path):
    missing, out = tmp_path / "nope.conll", tmp_path / "r"
    result = run_python(
        ["-m", "apps.ner.train", "--data", str(missing), "--out", str(out)], check=False
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].endswith("nope.conll: no such file or directory")
    assert "Traceback" not in result.stderr and not out.exists()


def run_with_output(capsys, module, argv):
    """`(exit status, stdout, stderr)` of `python -m <module> argv`, run in this process."""
    with pytest.raises(SystemExit) as exit_info:
        run_main(module.main, argv, prog=module.__name__)
    captured = capsys.readouterr()
    return exit_info.value.code, captured.out, captured.err


@pytest.mark.parametrize("module", [predict, evaluate])
@pytest.mark.parametrize("value", ["0", "-5"])
def test_batch_size_is_checked_while_parsing(tmp_path, capsys, module, value):
    # The model and data do not exist: the flag is refused before anything is read.
    argv = ["--model", str(tmp_path / "missing"), "--batch-size", value]
    argv += ["some text"] if module is predict else ["--data", str(tmp_path / "missing.conll")]
    code, err = run(capsys, module, argv)
    check_one_line(code, err, f"--batch-size must be a positive integer; received {value}")


SCRIPTS = [
    f"apps.{app}.{name}"
    for app in ("sentiment", "ner", "names", "jazz")
    for name in ("train", "predict", "evaluate", "export")
]


@pytest.mark.parametrize("script", SCRIPTS)
def test_help_of_every_script_reads_right(script):
    """Each flag says what it does; a default is shown once, and only where it means something."""
    module = importlib.import_module(script)
    build = getattr(module, "build_parser", None) or module.main.build_parser
    parser = build()
    formatter = parser._get_formatter()
    on_off = (argparse._StoreTrueAction, argparse._StoreFalseAction, argparse._StoreConstAction)
    for action in parser._actions:
        if action.help == argparse.SUPPRESS or isinstance(action, argparse._HelpAction):
            continue
        flag = "/".join(action.option_strings) or action.dest
        assert action.help and action.help.strip(), f"{script} {flag}: no help text"
        shown = formatter._expand_help(action)
        assert shown.lower().count("default") <= max(1, action.help.lower().count("default")), (
            f"{script} {flag}: default stated twice: {shown!r}"
        )
        assert "(default: None)" not in shown, f"{script} {flag}: {shown!r}"
        if isinstance(action, on_off):
            assert "(default: " not in shown, f"{script} {flag}: {shown!r}"
    assert "(default: None)" not in parser.format_help()


def test_no_crf_help_no_longer_claims_a_default_of_true():
    text = train.build_parser().format_help()
    crf = text[text.index("  --crf ") : text.index("  --tag-scheme")]
    assert "(default: True)" not in crf
    assert "(the default)" in crf.split("--no-crf")[0]  # --crf is on unless --no-crf


@pytest.mark.slow
@pytest.mark.parametrize("script", foreign_scripts("ner"))
def test_other_apps_name_an_ner_model(ner_run, tmp_path, capsys, script):
    module = importlib.import_module(script)
    app = script.split(".")[1]
    code, err = run(capsys, module, foreign_model_argv(script, ner_run, tmp_path))
    check_one_line(code, err, f"this is an NER model (apps.ner), not a {app} model")
    assert not (tmp_path / "exported").exists() and not (tmp_path / "solo.mid").exists()


@pytest.mark.slow
def test_empty_input_gives_no_predictions(ner_run, tmp_path, capsys, monkeypatch):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    base = ["--model", str(ner_run), "--input", str(empty)]
    for flags in (["--format", "table"], ["--format", "jsonl"], ["--tokenized"]):
        code, out, err = run_with_output(capsys, predict, [*base, *flags])
        assert (code, out) == (0, ""), (flags, err)
    for flags in ([], ["--tokenized"]):
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"")))
        code, out, err = run_with_output(
            capsys, predict, ["--model", str(ner_run), "--format", "jsonl", *flags]
        )
        assert (code, out) == (0, ""), (flags, err)


@pytest.mark.slow
def test_table_output_escapes_control_characters(ner_run, capsys):
    text = "Anna visited \x1b]0;owned\x07Paris ."
    code, out, err = run_with_output(capsys, predict, ["--model", str(ner_run), text])
    assert code in (0, None), err
    assert "\x1b" not in out and "\x07" not in out
    assert "\\x1b]0;owned\\x07" in out
    code, out, err = run_with_output(
        capsys, predict, ["--model", str(ner_run), "--format", "jsonl", text]
    )
    assert json.loads(out)["text"] == text
