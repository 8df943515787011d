"""Errors users can cause: one line naming the problem, exit 2, no traceback."""

import importlib
import json
from types import SimpleNamespace

import numpy as np
import pytest
from support.cli import check_one_line, run
from support.foreign import expected_app, foreign_model_argv, foreign_scripts

# The script module: `from apps.names import export` is the Python API's function.
import apps.names.export as export
from apps.names import data as names_data
from apps.names import evaluate, generate, predict, train
from seqapps.cli import run_main

TINY = ["--units", "8", "--embedding-dim", "4", "--epochs", "1", "--no-export"]


@pytest.mark.parametrize(
    ("content", "flags", "fragments"),
    [
        (b"", [], ["bad.txt: no examples", "empty"]),
        (b"\n  \n", [], ["bad.txt: no examples"]),
        (b"Onlyname\n", [], ["1 distinct line(s) are too few", "--dev"]),
        (b"Ab\nAb\n", [], ["1 distinct line(s) are too few"]),
        (b"caf\xe9\n", [], ["bad.txt:1: bytes that are not UTF-8"]),
        (b"", ["--mode", "text"], ["bad.txt: no text"]),
        (b"abc", ["--mode", "text", "--window", "10"], ["too few to split off a dev set"]),
    ],
)
def test_bad_training_data_leaves_no_run_dir(tmp_path, capsys, content, flags, fragments):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(content)
    out = tmp_path / "run"
    code, err = run(capsys, train, ["--data", str(bad), "--out", str(out), *TINY, *flags])
    check_one_line(code, err, *fragments)
    assert not out.exists()


@pytest.mark.parametrize(
    ("flags", "fragment"),
    [
        (["--bidirectional"], "--bidirectional cannot be used"),
        (["--clipvalue", "0"], "--clipvalue must be positive"),
        (["--clipvalue", "2", "--clipnorm", "1"], "clip by value or by norm, not both"),
        (["--window", "1"], "--window must be at least 2"),
        (["--embedding-dropout", "1"], "--embedding-dropout must be in [0, 1)"),
        (["--plateau", "-1"], "--plateau must be 0 (off) or a positive integer"),
        (["--plateau", "2", "--plateau-factor", "1"], "--plateau-factor must be in (0, 1)"),
    ],
)
def test_bad_training_flags(tmp_path, capsys, names_file, flags, fragment):
    out = tmp_path / "run"
    code, err = run(capsys, train, ["--data", str(names_file), "--out", str(out), *TINY, *flags])
    check_one_line(code, err, fragment)
    assert not out.exists()


def test_clipping_defaults_to_value_5_and_no_clip_turns_it_off():
    def checked(*flags):
        options = train.build_parser().parse_args(["--data", "x", "--out", "y", *flags])
        train._check_options(options)
        return options.clipvalue, options.clipnorm

    assert checked() == (5.0, None)
    assert checked("--clipnorm", "1") == (None, 1.0)  # clipping by norm replaces it
    assert checked("--no-clip", "--clipnorm", "1") == (None, None)


def test_one_line_file_is_training_data_with_a_dev_file(tmp_path, names_file):
    one = tmp_path / "one.txt"
    one.write_text("Alraptor\n", encoding="utf-8")
    options = train.build_parser().parse_args(["--data", str(one), "--dev", str(names_file)])
    train_set, dev_set = names_data.train_and_dev(options, options.seed)
    assert train_set.strings == ["Alraptor"] and len(dev_set) == 160


@pytest.mark.parametrize(
    ("flags", "fragment"),
    [
        (["--temperature", "-1"], "--temperature must be >= 0; received -1.0"),
        (["--top-k", "-2"], "--top-k must be >= 0; received -2"),
        (["--top-p", "0"], "--top-p must be in (0, 1]; received 0.0"),
        (["-n", "0"], "-n/--count must be a positive integer; received 0"),
        (["--count", "-3"], "-n/--count must be a positive integer; received -3"),
        (["--max-len", "0"], "--max-len must be a positive integer; received 0"),
        (["--beam", "-1"], "--beam must be a positive integer; received -1"),
        (["--beam", "0"], "--beam must be a positive integer; received 0"),
        (["--seed", "-1"], "--seed must be in 0..2147483647; received -1"),
        (["--seed", "99999999999"], "--seed must be in 0..2147483647; received 99999999999"),
    ],
)
def test_predict_flags_are_checked_while_parsing(tmp_path, capsys, flags, fragment):
    # The model does not exist: the flag is refused before anything is read.
    code, err = run(capsys, predict, ["--model", str(tmp_path / "missing"), *flags])
    check_one_line(code, err, fragment)


@pytest.mark.parametrize(
    ("flags", "fragment"),
    [
        (["--samples", "-1"], "--samples must be >= 0; received -1"),
        (["--temperature", "-0.5"], "--temperature must be >= 0; received -0.5"),
        (["--window", "1"], "--window must be >= 2; received 1"),
        (["--batch-size", "0"], "--batch-size must be a positive integer; received 0"),
        (["--seed", "x"], "--seed must be an integer; received 'x'"),
    ],
)
def test_evaluate_flags_are_checked_while_parsing(tmp_path, capsys, flags, fragment):
    argv = ["--model", str(tmp_path / "missing"), "--score", "Abc", *flags]
    code, err = run(capsys, evaluate, argv)
    check_one_line(code, err, fragment)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("flags", "fragments"),
    [
        (["--prefix", "Alß"], ["--prefix 'Alß'", "'ß'", "not in the model's vocabulary"]),
        (["--prefix", "Alra", "--max-len", "4"], ["leaving none to sample", "--max-len 4"]),
    ],
)
def test_bad_predict_flags(trained_run, capsys, flags, fragments):
    code, err = run(capsys, predict, ["--model", str(trained_run), *flags])
    check_one_line(code, err, *fragments)


def test_empty_samples_are_not_new_names():
    from apps.names.data import TrainingReference
    from seqapps.layers import CharVocabulary

    vocabulary = CharVocabulary(list("abc"))
    corpus = SimpleNamespace(strings=["ab", "ba"], mode="lines")
    reference = TrainingReference(corpus, "two names")
    tokens = np.array([vocabulary.encode("ab") + [1], [1, 0, 0], vocabulary.encode("cab")])
    records = generate._records(vocabulary, tokens, [2, 0, 3], [-1.0, -0.5, -2.0], 10, reference)
    assert [(r["sample"], r["novelty"]) for r in records] == [
        ("ab", "in training data"),
        ("", "empty"),
        ("cab", "new"),
    ]
    assert generate.novelty_summary(records) == (1, 3)


@pytest.mark.slow
def test_bad_evaluate_and_export_input(trained_run, tmp_path, capsys):
    code, err = run(capsys, evaluate, ["--model", str(trained_run)])
    check_one_line(code, err, "give --data FILE")
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    code, err = run(capsys, evaluate, ["--model", str(trained_run), "--data", str(empty)])
    check_one_line(code, err, "empty.txt: no examples")
    code, err = run(capsys, predict, ["--model", str(tmp_path)])
    check_one_line(code, err, "no model.keras")
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "file").write_text("x")
    code, err = run(capsys, export, ["--model", str(trained_run), "--out", str(tmp_path / "taken")])
    check_one_line(code, err, "--overwrite")


@pytest.mark.slow
@pytest.mark.parametrize("script", foreign_scripts("names"))
def test_other_apps_name_a_names_model(trained_run, tmp_path, capsys, script):
    module = importlib.import_module(script)
    wanted = expected_app(script)
    code, err = run(capsys, module, foreign_model_argv(script, trained_run, tmp_path))
    check_one_line(code, err, f"this is a names model (apps.names), not {wanted}")
    assert not (tmp_path / "exported").exists() and not (tmp_path / "solo.mid").exists()


@pytest.mark.slow
def test_score_report_escapes_control_characters(trained_run, capsys):
    with pytest.raises(SystemExit) as exit_info:
        run_main(
            evaluate.main,
            ["--model", str(trained_run), "--score", "Al\x1b[2Jx\x07", "--samples", "0"],
            prog="apps.names.evaluate",
        )
    captured = capsys.readouterr()
    assert exit_info.value.code in (0, None), captured.err
    assert "\x1b" not in captured.err and "\x07" not in captured.err
    assert "\\x1b" in captured.err and "\\x07" in captured.err
    scored = json.loads(captured.out)["scores"][0]
    assert scored["text"] == "Al\x1b[2Jx\x07"  # the JSON keeps the exact text
    assert [c for c, _ in scored["characters"]][:3] == ["A", "l", "\x1b"]
