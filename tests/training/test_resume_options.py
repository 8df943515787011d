"""`--resume` continues a run with the options it was trained with, and refuses others.

The run directories here are made by hand (the `config.json` a run writes, and a
checkpoint's `state.json`), so no test trains: the checks come before any training.
"""

import json
import os
import types

import pytest
from support.cli import check_one_line, run

from apps.names import train as names_train
from apps.sentiment import train as sentiment_train
from seqapps.errors import UserError
from seqapps.training import (
    RunDir,
    Trainer,
    TrainingConfig,
    command_line,
    resume_options,
    run_config,
    write_run_config,
)

PARSER = sentiment_train.build_parser


def fake_run(directory, module, argv, cwd=None, adjust=None):
    """A run directory as `module`'s train script leaves it when killed: config.json + state."""
    options = module.build_parser().parse_args(argv)
    options.command = command_line(module.__name__, argv)
    if adjust:
        adjust(options)
    config = run_config(options, {"data": options.data})
    if cwd:
        config["cwd"] = str(cwd)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config.json").write_text(json.dumps(config))
    (directory / "checkpoint").mkdir()
    (directory / "checkpoint" / "state.json").write_text(json.dumps({"epoch": 0}))
    return config


@pytest.fixture
def sentiment_run(tmp_path):
    data = tmp_path / "train.csv"
    data.write_text("text,label\ngood,pos\nbad,neg\n")
    out = tmp_path / "run"
    argv = ["--data", str(data), "--out", str(out), "--batch-size", "32", "--units", "8"]
    fake_run(out, sentiment_train, [*argv, "--epochs", "3"])
    return out


@pytest.fixture
def captured(monkeypatch):
    """The options a train script hands to `in_run_directory` (which then does nothing)."""
    seen = []
    for module in (sentiment_train, names_train):
        monkeypatch.setattr(module, "in_run_directory", lambda options, _: seen.append(options))
    return seen


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--batch-size", "64"], "--batch-size: the run in {out} was trained with 32; received 64"),
        (
            ["--optimizer", "sgd"],
            "--optimizer: the run in {out} was trained with adam; received sgd",
        ),
        (["--units", "16"], "--units: the run in {out} was trained with 8; received 16"),
        (
            ["--no-bidirectional"],
            "--bidirectional: the run in {out} was trained with True; received False",
        ),
        (["--seed", "2"], "--seed: the run in {out} was trained with 1; received 2"),
        (["--data", "other.csv"], "--data: the run in {out} was trained with "),
    ],
)
def test_resume_refuses_options_that_change_the_run(sentiment_run, capsys, flags, message):
    code, err = run(capsys, sentiment_train, ["--resume", "--out", str(sentiment_run), *flags])
    check_one_line(code, err, message.format(out=sentiment_run), "start a new run")


def test_resume_names_every_changed_option_in_one_line(sentiment_run, capsys):
    argv = ["--resume", "--out", str(sentiment_run), "--batch-size", "64", "--lr", "0.1"]
    code, err = run(capsys, sentiment_train, argv)
    check_one_line(code, err, "--batch-size: ", "received 64; --lr: ", "received 0.1")


def test_resume_out_alone_continues_with_the_recorded_options(sentiment_run, captured, capsys):
    code, err = run(capsys, sentiment_train, ["--resume", "--out", str(sentiment_run)])
    assert code == 0, err
    (options,) = captured
    recorded = json.loads((sentiment_run / "config.json").read_text())["options"]
    assert (options.batch_size, options.units, options.epochs) == (32, 8, 3)
    assert {k: getattr(options, k) for k in recorded if k not in ("resume", "data")} == {
        k: v for k, v in recorded.items() if k not in ("resume", "data")
    }
    assert options.data == os.path.realpath(recorded["data"])


def test_resume_allows_harmless_options(sentiment_run, captured, capsys):
    argv = ["--resume", "--out", str(sentiment_run), "--epochs", "5", "--checkpoint-every", "1"]
    argv += ["--max-minutes", "2", "--no-export", "--patience", "4", "--batch-size", "32"]
    code, err = run(capsys, sentiment_train, argv)
    assert code == 0, err
    (options,) = captured
    assert (options.epochs, options.checkpoint_every, options.max_minutes) == (5, 1.0, 2.0)
    assert options.no_export and options.patience == 4 and options.batch_size == 32
    assert options._resume_changes == {
        "epochs": {"from": 3, "to": 5},
        "checkpoint_every": {"from": 60.0, "to": 1.0},
        "max_minutes": {"from": None, "to": 2.0},
        "no_export": {"from": False, "to": True},
        "patience": {"from": 2, "to": 4},
    }


def test_relative_data_paths_are_found_from_the_runs_own_directory(tmp_path, captured, capsys):
    elsewhere = tmp_path / "project"
    elsewhere.mkdir()
    (elsewhere / "reviews.csv").write_text("text,label\ngood,pos\nbad,neg\n")
    out = tmp_path / "run"
    fake_run(out, sentiment_train, ["--data", "reviews.csv", "--out", str(out)], cwd=elsewhere)
    # Given again as an absolute path, the same file is no change.
    argv = ["--resume", "--out", str(out), "--data", str(elsewhere / "reviews.csv")]
    code, err = run(capsys, sentiment_train, argv)
    assert code == 0, err
    code, err = run(capsys, sentiment_train, ["--resume", "--out", str(out)])
    assert code == 0, err
    assert [o.data for o in captured] == [os.path.realpath(elsewhere / "reviews.csv")] * 2


def test_repeating_the_original_command_is_accepted(tmp_path, captured, capsys):
    """The names app clears the default --clipvalue when --clipnorm is given; the run's own
    command line (with both) still resumes."""
    data = tmp_path / "names.txt"
    data.write_text("Alosaurus\nBradon\nCeraptor\n")
    out = tmp_path / "run"
    argv = ["--data", str(data), "--out", str(out), "--clipnorm", "1", "--clipvalue", "5"]
    config = fake_run(out, names_train, argv, adjust=names_train._check_options)
    assert config["options"]["clipvalue"] is None
    code, err = run(capsys, names_train, [*argv, "--resume"])
    assert code == 0, err
    assert captured[0].clipnorm == 1.0 and captured[0].clipvalue is None


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        (["--resume", "--overwrite", "--out", "{run}"], ["--overwrite and --resume contradict"]),
        (["--resume"], ["--resume needs --out DIR"]),
        (["--resume", "--out", "{empty}"], ["--resume: {empty} holds no checkpoint"]),
        (["--resume", "--out", "{no_config}"], ["{no_config} has a checkpoint but no config.json"]),
    ],
)
def test_resume_flags_that_cannot_work(tmp_path, sentiment_run, capsys, argv, fragments):
    paths = {"run": sentiment_run, "empty": tmp_path / "empty", "no_config": tmp_path / "bare"}
    paths["empty"].mkdir()
    (paths["no_config"] / "checkpoint").mkdir(parents=True)
    (paths["no_config"] / "checkpoint" / "state.json").write_text("{}")
    argv = [a.format(**paths) for a in argv]
    code, err = run(capsys, sentiment_train, argv)
    check_one_line(code, err, *[f.format(**paths) for f in fragments])


def test_resumed_config_keeps_the_original_and_lists_the_resume(sentiment_run):
    first = {**json.loads((sentiment_run / "config.json").read_text()), "labels": ["neg", "pos"]}
    (sentiment_run / "config.json").write_text(json.dumps(first))
    run_dir = RunDir(sentiment_run)
    argv = ["--resume", "--out", str(sentiment_run), "--epochs", "6"]
    options = sentiment_train.build_parser().parse_args(argv)
    options.command = command_line("apps.sentiment.train", argv)
    resume_options(options, {"out": str(sentiment_run), "resume": True, "epochs": 6}, PARSER)
    # What the resumed run's own config.json would be.
    config = {**run_config(options, {"data": options.data}), "labels": ["neg", "pos"]}
    write_run_config(run_dir, options, config)
    written = json.loads((sentiment_run / "config.json").read_text())
    assert {k: v for k, v in written.items() if k != "resumed"} == first
    (entry,) = written["resumed"]
    assert entry["command"] == options.command and entry["time"]
    assert entry["changed"] == {"epochs": {"from": 3, "to": 6}}
    # A second resume continues with the first one's --epochs and adds its own entry.
    again = sentiment_train.build_parser().parse_args(["--resume", "--out", str(sentiment_run)])
    resume_options(again, {"out": str(sentiment_run), "resume": True}, PARSER)
    assert again.epochs == 6
    write_run_config(run_dir, again, config)
    assert len(json.loads((sentiment_run / "config.json").read_text())["resumed"]) == 2
    # Data that now gives other labels cannot continue the run.
    with pytest.raises(UserError, match=r"the data now gives labels \["):
        write_run_config(run_dir, again, {**config, "labels": ["neg", "pos", "x"]})


class FakeModel:
    """Just what `Trainer` uses of a model, recording the weights it loads."""

    def __init__(self):
        self.loaded = []
        self.optimizer = types.SimpleNamespace(built=True)
        self.variables = []

    def load_weights(self, path):
        self.loaded.append(path.name)

    def fit(self, *args, **kwargs):
        raise AssertionError("trained although the patience was spent")


def test_resume_stops_at_once_when_the_patience_was_spent(tmp_path, capsys):
    checkpoint = tmp_path / "checkpoint"
    checkpoint.mkdir()
    for name in ("latest-4.weights.h5", "best.weights.h5"):
        (checkpoint / name).write_text("weights")
    state = {"epoch": 3, "batches_done": 0, "history": [{"epoch": 1}, {"epoch": 2}, {"epoch": 3}]}
    state.update(best=0.9, best_epoch=1, best_metrics={"accuracy": 0.9}, wait=2, lr_scale=1.0)
    state.update(elapsed=5.0, weights="latest-4.weights.h5", serial=4, seed_states=[])
    (checkpoint / "state.json").write_text(json.dumps(state))
    options = sentiment_train.build_parser().parse_args(["--resume", "--patience", "2"])
    options.epochs = 10
    config = TrainingConfig.from_options(options)
    run_dir = types.SimpleNamespace(path=tmp_path, checkpoint_dir=checkpoint)
    model = FakeModel()

    def train_batches(epoch):
        pytest.fail(f"epoch {epoch + 1} started although the patience was spent")

    trainer = Trainer(model, run_dir, config, train_batches, None, "accuracy")
    assert trainer.fit() == {"epoch": 1, "accuracy": 0.9}
    assert model.loaded == ["latest-4.weights.h5", "best.weights.h5"]
    err = capsys.readouterr().err
    stop = "Early stop: no better dev accuracy for 2 epoch(s) (--patience 2); keeping epoch 1\n"
    assert stop in err
    assert "Epoch 4" not in err
