"""`RunDir`: the directory of one training run, replaced and recovered without loss."""

import glob
import json
import os
import shutil
import sys
from pathlib import Path

from seqapps.errors import UserError
from seqapps.files import kill_point, remove_tree, write_text


class RunDir:
    """The directory one training run writes: model, config, metrics, history, plots.

    Layout: `model.keras`, `config.json`, `metrics.json`, `history.csv`,
    `curves.png`, `saved_model/`, and `checkpoint/` while training (removed
    at the end; `--resume` continues from it).

    `--overwrite` replaces a run without ever leaving neither run: the old run is
    renamed to `<dir>.old` and deleted only once the new run has written its first
    checkpoint (`checkpoint_written`); if the new run fails before that, the old
    one is renamed back (`abandon`). A marker file (`.seqapps-replacing`) in
    both tells `recover` (run by `prepare`) what a crash left behind, so the next
    run of any kind puts it right.

    Args:
        path: The directory.
        overwrite: Replace the run in a non-empty directory.
        resume: Continue the run found in the directory.
    """

    CHECKPOINT = "checkpoint"
    MARKER = ".seqapps-replacing"
    RUN_ENTRIES = ("config.json", "model.keras", CHECKPOINT)

    def __init__(self, path, overwrite=False, resume=False):
        self.path = Path(path)
        self.overwrite = overwrite
        self.resume = resume
        self._created = False
        self._replacing = False

    @property
    def old_path(self):
        """Where `--overwrite` keeps the old run until the new one's first checkpoint."""
        return self.path.with_name(f"{self.path.name}.old")

    def prepare(self):
        """Create the directory, or check that it may be used. Call before the data loads."""
        if self.path.exists() and not self.path.is_dir():
            raise UserError(f"--out {self.path}: exists and is not a directory")
        self.recover()
        non_empty = self.path.is_dir() and any(self.path.iterdir())
        if self.resume:
            if not self.has_checkpoint():
                raise UserError(
                    f"--resume: {self.path} holds no checkpoint to resume from "
                    "(the run finished, or never started)"
                )
            return self
        if non_empty and not self.overwrite:
            raise UserError(
                f"--out {self.path}: directory is not empty; pass --overwrite to replace it "
                "or --resume to continue an interrupted run"
            )
        if non_empty:
            self._move_old_run_aside()
            return self
        self._created = not self.path.exists()
        self.path.mkdir(parents=True, exist_ok=True)
        return self

    def _move_old_run_aside(self):
        entries = sorted(child.name for child in self.path.iterdir())
        if not any(name in entries for name in self.RUN_ENTRIES):
            shown = ", ".join(entries[:5])
            if len(entries) > 5:
                shown += f", ... ({len(entries)} entries)"
            raise UserError(
                f"--overwrite {self.path}: not a run directory (no config.json, model.keras or "
                f"checkpoint/), it holds {shown}; nothing was changed: remove it yourself or "
                "choose another --out"
            )
        old = self.old_path
        if os.path.lexists(old):
            raise UserError(
                f"--overwrite {self.path}: {old} already exists; move it away first (the old "
                "run is kept there until the new run writes its first checkpoint)"
            )
        _write_marker(self.path, "old")
        kill_point("overwrite-marked")
        os.rename(self.path, old)
        kill_point("overwrite-moved-aside")
        self.path.mkdir()
        _write_marker(self.path, "new")
        self._replacing = True
        kill_point("overwrite-new-created")
        print(
            f"Replacing the run in {self.path}; the old run waits in {old} until this run "
            "writes its first checkpoint",
            file=sys.stderr,
        )

    def checkpoint_written(self):
        """The run has a checkpoint: the run it replaces (`--overwrite`) may go now."""
        if not self._replacing:
            return
        self._replacing = False
        kill_point("overwrite-replaced")
        remove_tree(self.old_path)
        (self.path / self.MARKER).unlink(missing_ok=True)

    def abandon(self):
        """The run failed before its first checkpoint: undo what `prepare` did.

        A directory this run created is removed; a run it was replacing is put back.
        """
        if self._replacing:
            self._replacing = False
            self._restore_old_run()
        elif self._created and self.path.is_dir():
            remove_tree(self.path)

    discard_if_new = abandon

    def recover(self):
        """Put right what a crash during `--overwrite` left (see the class docstring)."""
        parent, name = self.path.parent, self.path.name
        if parent.is_dir():
            for leftover in parent.glob(f".{glob.escape(name)}.*discarded-*"):
                shutil.rmtree(leftover, ignore_errors=True)
        old = self.old_path
        if not (old.is_dir() and _marker_role(old) == "old"):
            if self.path.is_dir() and _marker_role(self.path) is not None:
                (self.path / self.MARKER).unlink(missing_ok=True)  # a finished replacement
            return
        if not self.path.exists():
            os.rename(old, self.path)
            (self.path / self.MARKER).unlink(missing_ok=True)
            print(
                f"Restored the run in {self.path} from {old} (a run replacing it with "
                "--overwrite was stopped before its first checkpoint)",
                file=sys.stderr,
            )
        elif _marker_role(self.path) == "new" or not any(self.path.iterdir()):
            if self.has_checkpoint():
                remove_tree(old)
                (self.path / self.MARKER).unlink(missing_ok=True)
            else:
                self._restore_old_run()

    def _restore_old_run(self):
        old = self.old_path
        if self.path.exists():
            remove_tree(self.path)  # the replacing run's first files, no checkpoint yet
        os.rename(old, self.path)
        (self.path / self.MARKER).unlink(missing_ok=True)
        print(
            f"Restored the run in {self.path} from {old} (the run replacing it with --overwrite "
            "stopped before its first checkpoint)",
            file=sys.stderr,
        )

    def __truediv__(self, name):
        return self.path / name

    @property
    def checkpoint_dir(self):
        return self.path / self.CHECKPOINT

    def has_checkpoint(self):
        return (self.checkpoint_dir / "state.json").is_file()


def _write_marker(directory, role):
    write_text(Path(directory) / RunDir.MARKER, json.dumps({"role": role}) + "\n")


def _marker_role(directory):
    try:
        return json.loads((Path(directory) / RunDir.MARKER).read_text()).get("role")
    except (OSError, ValueError, AttributeError):
        return None
