"""Nothing is lost when a write, a checkpoint or an `--overwrite` is killed at any step.

The kill tests run a short driver in a subprocess that imports `seqapps.files` and
`seqapps.training` without TensorFlow (see `helpers.stub_seqapps_code`) and trains nothing:
a fake model writes its "weights" as text. `SEQAPPS_TEST_KILL_AT=<point>[@N]` makes the
process SIGKILL itself at the named point (`seqapps.files.kill_point`); the test then looks
at what is left and lets `RunDir.recover` (run by every `prepare`) put it right.
"""

import json
import textwrap

import pytest
from support.cli import check_one_line, run
from support.sentiment import synthetic_rows, write_csv
from training.helpers import run_stubbed

from seqapps.errors import UserError
from seqapps.files import atomic_path, write_text
from seqapps.training import RunDir

KILLED = -9


def test_a_file_is_never_written_over_a_directory(tmp_path):
    folder = tmp_path / "out.csv"
    folder.mkdir()
    (folder / "keep.txt").write_text("mine")
    with pytest.raises(UserError, match=f"{folder}: is a directory, not a file"):
        write_text(folder, "rows\n")
    with (
        pytest.raises(UserError, match=f"{folder}: is a directory, not a file"),
        atomic_path(folder) as temporary,
    ):
        temporary.write_text("rows\n")
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]  # no temporary left either
    assert [p.name for p in folder.iterdir()] == ["keep.txt"]


def test_a_directory_replaces_a_directory(tmp_path):
    target = tmp_path / "saved_model"
    target.mkdir()
    (target / "old.pb").write_text("old")
    with atomic_path(target) as staging:
        staging.mkdir()
        (staging / "new.pb").write_text("new")
    assert [p.name for p in tmp_path.iterdir()] == ["saved_model"]
    assert [p.name for p in target.iterdir()] == ["new.pb"]


WRITE_DIRECTORY = """
from pathlib import Path
import seqapps.files as files
if {no_exchange}:
    files._exchange = lambda first, second: False
with files.atomic_path(Path({target!r})) as staging:
    staging.mkdir()
    (staging / "new.pb").write_text("new")
"""


@pytest.mark.slow  # starts a process
@pytest.mark.parametrize(
    ("point", "no_exchange"), [("atomic-written", False), ("swap-moved-aside", True)]
)
def test_a_killed_directory_swap_keeps_the_old_directory(tmp_path, point, no_exchange):
    target = tmp_path / "saved_model"
    target.mkdir()
    (target / "old.pb").write_text("old")
    body = WRITE_DIRECTORY.format(target=str(target), no_exchange=no_exchange)
    assert run_stubbed(body, kill_at=point).returncode == KILLED
    if point == "atomic-written":
        assert [p.name for p in target.iterdir()] == ["old.pb"]
    else:
        # Renamed aside, never deleted: the old directory is still there, complete.
        (aside,) = tmp_path.glob(".tmp*.old.saved_model")
        assert [p.name for p in aside.iterdir()] == ["old.pb"]


# --overwrite ------------------------------------------------------------------------------


def old_run(directory):
    directory.mkdir()
    (directory / "config.json").write_text("old config")
    (directory / "model.keras").write_text("old model")
    return directory


def assert_old_run(directory, marked=False):
    """`directory` holds the old run, complete (`marked`: maybe with the replace marker)."""
    names = sorted(p.name for p in directory.iterdir() if not (marked and p.name == RunDir.MARKER))
    assert names == ["config.json", "model.keras"]
    assert (directory / "model.keras").read_text() == "old model"


OVERWRITE = """
import json, types
from pathlib import Path
from seqapps.training import RunDir
from seqapps.training import Trainer, TrainingConfig

class Model:
    optimizer = types.SimpleNamespace(built=True)
    variables = []
    tag = "new 1"
    def save_weights(self, path):
        Path(path).write_text(self.tag)

run_dir = RunDir({out!r}, overwrite=True).prepare()
(run_dir / "config.json").write_text("new config")
trainer = Trainer(Model(), run_dir, TrainingConfig(), None, None, "m")
trainer._save_checkpoint(0, 3)
trainer.model.tag = "new 2"
trainer._save_checkpoint(0, 6)
print("finished")
"""

BEFORE_FIRST_CHECKPOINT = [
    "overwrite-marked",
    "overwrite-moved-aside",
    "overwrite-new-created",
    "checkpoint-weights-written",
]
AFTER_FIRST_CHECKPOINT = [
    "checkpoint-committed",
    "overwrite-replaced",
    "checkpoint-weights-written@2",
]


@pytest.mark.slow  # starts a process
@pytest.mark.parametrize("point", BEFORE_FIRST_CHECKPOINT + AFTER_FIRST_CHECKPOINT)
def test_overwrite_keeps_the_old_run_until_the_new_one_has_a_checkpoint(tmp_path, point):
    out = old_run(tmp_path / "run")
    result = run_stubbed(OVERWRITE.format(out=str(out)), kill_at=point)
    assert result.returncode == KILLED, result.stderr
    old = tmp_path / "run.old"
    if point in BEFORE_FIRST_CHECKPOINT:
        # The old run is complete, under its name or as run.old.
        assert_old_run(old if old.is_dir() else out, marked=True)
    # The next run of any kind (here: preparing a --resume) puts things right.
    RunDir(out).recover()
    assert [p.name for p in tmp_path.iterdir()] == ["run"]
    if point in BEFORE_FIRST_CHECKPOINT:
        assert_old_run(out)
        return
    assert (out / "config.json").read_text() == "new config"
    state = json.loads((out / "checkpoint" / "state.json").read_text())
    assert state["batches_done"] == 3 and state["weights"] == "latest-1.weights.h5"
    assert (out / "checkpoint" / state["weights"]).read_text() == "new 1"
    assert not (out / RunDir.MARKER).exists()


@pytest.mark.slow  # starts a process
def test_overwrite_that_runs_through_removes_the_old_run(tmp_path):
    out = old_run(tmp_path / "run")
    result = run_stubbed(OVERWRITE.format(out=str(out)))
    assert result.returncode == 0 and "finished" in result.stdout, result.stderr
    assert "the old run waits in" in result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["run"]
    assert sorted(p.name for p in out.iterdir()) == ["checkpoint", "config.json"]
    checkpoint = sorted(p.name for p in (out / "checkpoint").iterdir())
    assert checkpoint == ["latest-2.weights.h5", "state.json"]


@pytest.mark.parametrize("contents", [["notes.txt"], ["a.txt", "b", "c", "d", "e", "f"]])
def test_overwrite_refuses_a_folder_that_is_not_a_run(tmp_path, capsys, contents):
    out = tmp_path / "photos"
    out.mkdir()
    for name in contents:
        (out / name).write_text("keep")
    data = write_csv(tmp_path / "train.csv", synthetic_rows(40))
    from apps.sentiment import train

    code, err = run(capsys, train, ["--data", str(data), "--out", str(out), "--overwrite"])
    check_one_line(code, err, f"--overwrite {out}: not a run directory", contents[0])
    assert sorted(p.name for p in out.iterdir()) == sorted(contents)


def test_overwrite_puts_the_old_run_back_when_the_new_one_fails_early(tmp_path, capsys):
    out = old_run(tmp_path / "run")
    bad = tmp_path / "one_class.csv"
    bad.write_text("text,label\ngood,pos\nfine,pos\n")
    from apps.sentiment import train

    code, err = run(capsys, train, ["--data", str(bad), "--out", str(out), "--overwrite"])
    assert code == 2 and "needs at least two classes" in err, err
    assert f"Restored the run in {out} from {out}.old" in err
    assert [p.name for p in tmp_path.iterdir() if p.name != bad.name] == ["run"]
    assert_old_run(out)


def test_overwrite_refuses_when_the_old_name_is_taken(tmp_path):
    out = old_run(tmp_path / "run")
    (tmp_path / "run.old").mkdir()
    with pytest.raises(UserError, match="run.old already exists"):
        RunDir(out, overwrite=True).prepare()
    assert_old_run(out)


# Checkpoints ------------------------------------------------------------------------------

CHECKPOINTS = """
import json, types
from pathlib import Path
from seqapps.training import Trainer, TrainingConfig

class Model:
    optimizer = types.SimpleNamespace(built=True)
    variables = []
    tag = "epoch 1"
    def save_weights(self, path):
        Path(path).write_text(self.tag)

out = Path({out!r})
out.mkdir()
run_dir = types.SimpleNamespace(path=out, checkpoint_dir=out / "checkpoint")
options = TrainingConfig()
trainer = Trainer(Model(), run_dir, options, None, None, "m", mode="min")
trainer._update_best(2.0, 1, {{"m": 2.0}})   # epoch 1: the best so far
trainer._save_checkpoint(1, 0)
trainer.model.tag = "epoch 2, batch 5"
trainer._save_checkpoint(1, 5)
trainer.model.tag = "epoch 2"
trainer._update_best(1.0, 2, {{"m": 1.0}})   # epoch 2: better
trainer._save_checkpoint(2, 0)
"""


@pytest.mark.slow  # starts a process
@pytest.mark.parametrize(
    ("point", "batches", "weights", "best"),
    [
        ("checkpoint-weights-written@2", 0, "epoch 1", "epoch 1"),
        ("checkpoint-committed@2", 5, "epoch 2, batch 5", "epoch 1"),
        ("best-saved@2", 5, "epoch 2, batch 5", "epoch 1"),  # the new best is not committed
        ("checkpoint-weights-written@3", 5, "epoch 2, batch 5", "epoch 1"),
        ("checkpoint-committed@3", 0, "epoch 2", "epoch 2"),
    ],
)
def test_a_killed_checkpoint_leaves_the_previous_or_the_new_one(
    tmp_path, point, batches, weights, best
):
    out = tmp_path / "run"
    result = run_stubbed(CHECKPOINTS.format(out=str(out)), kill_at=point)
    assert result.returncode == KILLED, result.stderr
    checkpoint = out / "checkpoint"
    state = json.loads((checkpoint / "state.json").read_text())
    assert state["batches_done"] == batches
    assert (checkpoint / state["weights"]).read_text() == weights
    # What a resume restores: the best weights the committed state knows.
    restore = textwrap.dedent(f"""
        import types
        from pathlib import Path
        from seqapps.training import Trainer, TrainingConfig
        class Model:
            optimizer = types.SimpleNamespace(built=True)
            variables = []
            def load_weights(self, path):
                print("loaded", Path(path).read_text())
        out = Path({str(out)!r})
        run_dir = types.SimpleNamespace(path=out, checkpoint_dir=out / "checkpoint")
        Trainer(Model(), run_dir, TrainingConfig(), None, None,
                "m")._restore()
        print("best", (out / "checkpoint" / "best.weights.h5").read_text())
    """)
    restored = run_stubbed(restore)
    assert restored.returncode == 0, restored.stderr
    assert restored.stdout.splitlines() == [f"loaded {weights}", f"best {best}"]
    assert state["best_epoch"] == (2 if best == "epoch 2" else 1)
