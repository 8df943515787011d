"""Atomic file writes and run directories.

Every file a run writes goes to a temporary name in the same directory first
and is renamed into place, so a crash never leaves a half-written file.
"""

import contextlib
import csv
import io
import json
import os
import shutil
import tempfile
from pathlib import Path

from seqapps.cli import UserError


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside `path`; on success rename it to `path`.

    The temporary name ends with the target's name, so writers that check extensions
    (`.keras`, `.png`) accept it. Works for files and directories.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".tmp", suffix=f".{path.name}", dir=path.parent)
    os.close(handle)
    os.unlink(temporary)
    temporary = Path(temporary)
    try:
        yield temporary
        if path.is_dir() and not path.is_symlink():
            old = path.with_name(f".{path.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            path.rename(old)
            temporary.rename(path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(temporary, path)
    finally:
        if temporary.is_dir():
            shutil.rmtree(temporary, ignore_errors=True)
        elif temporary.exists():
            temporary.unlink()


def write_text(path, text):
    """Write `text` to `path` atomically (UTF-8)."""
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8")


def write_json(path, data):
    """Write `data` as indented JSON atomically."""
    write_text(path, json.dumps(data, indent=2, sort_keys=False, default=_jsonable) + "\n")


def write_csv(path, rows, fieldnames):
    """Write dict rows as CSV atomically."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fieldnames, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    write_text(path, buffer.getvalue())


def _jsonable(value):
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def read_json(path):
    """Read JSON, turning a missing or corrupt file into a `UserError`."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise UserError(f"{path}: file not found") from error
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise UserError(f"{path}: not valid JSON ({error})") from error


class RunDir:
    """The directory one training run writes: model, config, metrics, history, plots.

    Layout: `model.keras`, `config.json`, `metrics.json`, `history.csv`,
    `curves.png`, `saved_model/`, and `checkpoint/` while training (removed
    at the end; `--resume` continues from it).

    Args:
        path: The directory.
        overwrite: Replace the contents of a non-empty directory.
        resume: Continue the run found in the directory.
    """

    CHECKPOINT = "checkpoint"

    def __init__(self, path, overwrite=False, resume=False):
        self.path = Path(path)
        self.overwrite = overwrite
        self.resume = resume
        self._created = False

    def prepare(self):
        """Create the directory, or check that it may be used. Call after the data loads."""
        if self.path.exists() and not self.path.is_dir():
            raise UserError(f"--out {self.path}: exists and is not a directory")
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
            for child in self.path.iterdir():
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child)
                else:
                    child.unlink()
        self._created = not self.path.exists()
        self.path.mkdir(parents=True, exist_ok=True)
        return self

    def discard_if_new(self):
        """Remove the directory if this run created it (used when a run fails early)."""
        if self._created and self.path.is_dir():
            shutil.rmtree(self.path, ignore_errors=True)

    def __truediv__(self, name):
        return self.path / name

    @property
    def checkpoint_dir(self):
        return self.path / self.CHECKPOINT

    def has_checkpoint(self):
        return (self.checkpoint_dir / "state.json").is_file()


def resolve_model_path(value):
    """`--model` may name a run directory or a `.keras` file; return the `.keras` path."""
    path = Path(value)
    if path.is_dir():
        candidate = path / "model.keras"
        if not candidate.is_file():
            raise UserError(f"--model {value}: directory has no model.keras (not a run directory)")
        return candidate
    if not path.exists():
        raise UserError(f"--model {value}: no such file or directory")
    if path.suffix != ".keras":
        raise UserError(f"--model {value}: expected a run directory or a .keras file")
    return path
