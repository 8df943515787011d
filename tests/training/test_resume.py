"""Killed and interrupted runs resume to the very result of an uninterrupted run, in every app.

Each test trains an app in a subprocess, SIGKILLs it mid-epoch once a checkpoint exists,
continues it with `--resume --out DIR` alone, and compares the result with an uninterrupted
run of the same options and seed (`references`, trained alongside). The comparison is
exact: the kept model's weights, the dev metrics and the second epoch's training loss (an
epoch the resumed run trains whole) are equal to the last bit, which holds only if the
weights, the optimizer state, the batches skipped and the dropout generators' states all
came back as they were.
"""

import json
import re
import shlex
import signal
import time

import numpy as np
import pytest
from support.cli import check_one_line, run
from training.helpers import TrainProcess, keras_weights

pytestmark = pytest.mark.slow

APPS = ("sentiment", "ner", "jazz", "names")


def history(out):
    lines = (out / "history.csv").read_text().splitlines()
    header = lines[0].split(",")
    return [dict(zip(header, line.split(","))) for line in lines[1:]]


def assert_same_weights(first, second):
    ours, theirs = keras_weights(first), keras_weights(second)
    assert ours.keys() == theirs.keys() and ours
    different = [name for name in ours if not np.array_equal(ours[name], theirs[name])]
    assert not different, f"weights differ: {different[:5]}"


def mid_epoch(epoch):
    """A state predicate: a checkpoint inside epoch `epoch` (0-based), not at its end."""
    return lambda state: state["epoch"] == epoch and state["batches_done"] > 0


@pytest.mark.parametrize("app", APPS)
def test_resume_after_sigkill_matches_the_uninterrupted_run(app, tmp_path, app_data, references):
    references.start(app)
    out = tmp_path / "run"
    module = f"apps.{app}.train"
    first = TrainProcess(module, ["--out", out, *app_data[app]], tmp_path / "first.log")
    first.wait_for_state(out, mid_epoch(0))
    first.kill()
    assert not (out / "model.keras").exists()
    # The first run's own progress: the header of epoch 1 of 2, then a live batch line.
    assert "Epoch 1/2\n" in first.stderr and "  batch 1/" in first.stderr

    killed_at = json.loads((out / "checkpoint" / "state.json").read_text())  # the last one
    if app != "sentiment":
        second = TrainProcess(module, ["--resume", "--out", out], tmp_path / "second.log")
    else:
        # Ctrl-C in the resumed run, still in epoch 1: it stops at the end of the batch, with
        # a checkpoint there (the only one it takes: no timed ones), and one line that names
        # the command to resume with.
        argv = ["--resume", "--checkpoint-every", "3600", "--out", out]
        second = TrainProcess(module, argv, tmp_path / "second.log")
        second.wait_for_text("(first batch after")
        sent = time.monotonic()
        second.signal(signal.SIGINT)
        code = second.wait()
        stopped = time.monotonic() - sent
        assert code == 130, second.stderr[-3000:]
        assert stopped < 5, f"took {stopped:.1f} s to stop after SIGINT"
        state = json.loads((out / "checkpoint" / "state.json").read_text())
        assert state["epoch"] == 0 and state["batches_done"] > killed_at["batches_done"]
        last = second.stderr.strip().splitlines()[-1]
        command = shlex.join(["python", "-m", module, "--resume", "--out", str(out)])
        assert last == (
            f"{module}: interrupted; the checkpoint at epoch 1, batch {state['batches_done']} is "
            f"kept in {out / 'checkpoint'}. Resume with: {command}"
        ), last
        assert "Traceback" not in second.stderr
        second = TrainProcess(module, ["--resume", "--out", out], tmp_path / "third.log")
    second.finish()

    # The resumed run says where it goes on, at once.
    resumed_log = (tmp_path / "second.log").read_text()
    found = re.search(r"Epoch 1/2: resuming after batch (\d+) of (\d+)\n", resumed_log)
    assert found, resumed_log
    assert int(found[1]) == killed_at["batches_done"] and int(found[2]) > int(found[1])
    assert f"Resuming {out} at epoch 1, after {found[1]} batch(es) of it" in resumed_log
    reference = references.result(app)
    assert "Epoch 1/2\n" in (reference.parent / f"{app}.log").read_text()
    ours = json.loads((out / "metrics.json").read_text())
    theirs = json.loads((reference / "metrics.json").read_text())
    assert ours["dev"] == theirs["dev"]
    assert ours["epoch"] == theirs["epoch"]
    assert_same_weights(out / "model.keras", reference / "model.keras")
    # Epoch 2 ran whole in the last process: its mean training loss is bit-identical.
    assert history(out)[1]["loss"] == history(reference)[1]["loss"]
    assert [row["epoch"] for row in history(out)] == ["1", "2"]
    assert not (out / "checkpoint").exists()

    # config.json keeps the run's own options and command, and lists the resumes.
    config = json.loads((out / "config.json").read_text())
    assert config["command"].startswith(f"python -m {module} --out ")
    assert "--resume" not in config["command"]
    resumes = config["resumed"]
    assert len(resumes) == (2 if app == "sentiment" else 1)
    assert all(r["command"].endswith(f"--out {out}") and r["time"] for r in resumes)
    assert all(r["command"].startswith(f"python -m {module} --resume ") for r in resumes)
    if app == "sentiment":
        assert resumes[0]["changed"] == {"checkpoint_every": {"from": 0.2, "to": 3600.0}}
    assert config["options"] == json.loads((reference / "config.json").read_text())["options"] | {
        "out": str(out)
    }


def test_names_resumes_in_text_mode(tmp_path, monkeypatch):
    """`apps.names.train --resume` loads into a built model (it said "not yet been built")."""
    from apps import names
    from seqapps.training import Trainer

    text = tmp_path / "text.txt"
    text.write_text(("the quick brown fox jumps over the lazy dog. " * 40 + "\n") * 4)
    out = tmp_path / "run"
    options = dict(data=str(text), out=str(out), mode="text", window=20, units=8)
    options.update(embedding_dim=4, batch_size=16, no_export=True, patience=0)
    # Keep the checkpoint of the first epoch, as a run killed while saving would.
    monkeypatch.setattr(Trainer, "finish", lambda self: None)
    names.train_model(**options, epochs=1)
    assert (out / "checkpoint" / "state.json").is_file()
    monkeypatch.undo()
    metrics = names.train_model(out=str(out), resume=True, epochs=2)
    assert metrics["epoch"] in (1, 2) and metrics["dev"]["nll"] > 0
    assert [row["epoch"] for row in history(out)] == ["1", "2"]
    config = json.loads((out / "config.json").read_text())
    assert config["options"]["mode"] == "text" and config["options"]["epochs"] == 1
    assert config["resumed"][0]["changed"] == {"epochs": {"from": 1, "to": 2}}


# An existing directory given as an output file is refused, and left as it is.


@pytest.mark.parametrize("app", ["sentiment", "ner", "names"])
def test_predict_output_that_is_a_directory_is_refused(app, tmp_path, references, capsys):
    import importlib

    predict = importlib.import_module(f"apps.{app}.predict")
    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "keep.txt").write_text("mine")
    argv = {"sentiment": ["a lovely film"], "ner": ["Anna visited Paris ."], "names": ["-n", "2"]}
    code, err = run(
        capsys,
        predict,
        ["--model", str(references.result(app)), *argv[app], "--output", str(folder)],
    )
    check_one_line(code, err, f"{folder}: is a directory")
    assert sorted(p.name for p in folder.iterdir()) == ["keep.txt"]
    assert (folder / "keep.txt").read_text() == "mine"


def test_ner_evaluate_conll_out_that_is_a_directory_is_refused(
    tmp_path, references, app_data, capsys
):
    from apps.ner import evaluate

    folder = tmp_path / "conll"
    folder.mkdir()
    (folder / "keep.txt").write_text("mine")
    dev = app_data["ner"][app_data["ner"].index("--dev") + 1]
    argv = ["--model", str(references.result("ner")), "--data", str(dev)]
    code, err = run(capsys, evaluate, [*argv, "--conll-out", str(folder)])
    check_one_line(code, err, f"{folder}: is a directory")
    assert (folder / "keep.txt").read_text() == "mine"
