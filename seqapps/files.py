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
import sys
import tempfile
from pathlib import Path

from seqapps.errors import UserError

KILL_AT_VARIABLE = "SEQAPPS_TEST_KILL_AT"
_kill_counts = {}


def kill_point(name):
    """Test hook: SIGKILL this process at the named point of a write.

    Set `SEQAPPS_TEST_KILL_AT=<name>` (the first time the point is reached) or
    `<name>@N` (the N-th time) to test what a crash at that moment leaves behind.
    Unset (always, outside tests) it does nothing. The points:

    - `atomic-written`: `atomic_path`'s temporary file or directory is complete, the
      target not yet replaced;
    - `swap-moved-aside`: a directory being replaced is renamed aside, the new one not
      yet in place (only where the atomic exchange is unavailable);
    - `overwrite-marked`, `overwrite-moved-aside`, `overwrite-new-created`: the steps
      of `RunDir.prepare` with `--overwrite`; `overwrite-replaced`: the new run has its
      first checkpoint, the old one is not yet removed;
    - `checkpoint-weights-written`, `checkpoint-committed`, `best-saved`: the steps of
      a checkpoint in `seqapps.training.Trainer`.
    """
    wanted = os.environ.get(KILL_AT_VARIABLE)
    if not wanted:
        return
    target, _, count = wanted.partition("@")
    if target != name:
        return
    _kill_counts[name] = _kill_counts.get(name, 0) + 1
    if _kill_counts[name] >= int(count or 1):
        import signal

        sys.stdout.flush()
        sys.stderr.flush()
        os.kill(os.getpid(), signal.SIGKILL)


def _exchange(first, second):
    """Swap two paths atomically (Linux `renameat2(RENAME_EXCHANGE)`); False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p] * 2 + [ctypes.c_uint]
    result = renameat2(at_fdcwd, os.fsencode(first), at_fdcwd, os.fsencode(second), rename_exchange)
    return result == 0


def _replace_directory(new, path):
    """Put directory `new` at `path`, where a directory already is, by renames only.

    Where the file system can swap the two atomically, `path` is never missing;
    elsewhere the old directory is renamed aside first and removed only once the
    new one is in place (a crash in between leaves it beside `path`, as
    `.tmp*.old.<name>`). On return `new` holds the old directory (the caller removes it).
    """
    if _exchange(new, path):
        return
    handle, aside = tempfile.mkstemp(prefix=".tmp", suffix=f".old.{path.name}", dir=path.parent)
    os.close(handle)
    os.unlink(aside)
    os.rename(path, aside)
    kill_point("swap-moved-aside")
    try:
        os.rename(new, path)
    except BaseException:
        os.rename(aside, path)
        raise
    os.rename(aside, new)


def _directory_as_file_error(path):
    return UserError(
        f"{path}: is a directory, not a file; give a file name to write (the directory was "
        "left as it is)"
    )


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside `path`; on success rename it to `path`.

    The temporary name ends with the target's name, so writers that check extensions
    (`.keras`, `.png`) accept it. Works for files and directories: a directory
    replaces a directory by renames (see `_replace_directory`), never by deleting
    the old one first. A file is never written over a directory (nor a directory
    over a file): that raises `UserError` naming `path`, and nothing is deleted.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".tmp", suffix=f".{path.name}", dir=path.parent)
    os.close(handle)
    os.unlink(temporary)
    temporary = Path(temporary)
    try:
        yield temporary
        kill_point("atomic-written")
        if temporary.is_dir() and not temporary.is_symlink():
            if path.is_dir() and not path.is_symlink():
                _replace_directory(temporary, path)
            elif os.path.lexists(path):
                raise UserError(f"{path}: exists and is not a directory; not replaced")
            else:
                os.rename(temporary, path)
        else:
            if path.is_dir():
                raise _directory_as_file_error(path)
            os.replace(temporary, path)
    finally:
        if temporary.is_dir() and not temporary.is_symlink():
            shutil.rmtree(temporary, ignore_errors=True)
        elif os.path.lexists(temporary):
            temporary.unlink()


def write_text(path, text):
    """Write `text` to `path` atomically (UTF-8); a directory at `path` is a `UserError`."""
    if Path(path).is_dir():
        raise _directory_as_file_error(path)
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


def remove_tree(path):
    """Delete directory `path`: first renamed to a `.<name>.discarded-*` name, then removed.

    A crash during the removal leaves only that hidden name (removed by the next
    `RunDir.recover`), never a half-deleted directory under the real name.
    """
    path = Path(path)
    if not path.exists():
        return
    aside = tempfile.mkdtemp(prefix=f".{path.name}.discarded-", dir=path.parent)
    os.rename(path, aside)
    shutil.rmtree(aside, ignore_errors=True)


def resolve_model_path(value):
    """`--model` may name a run directory, a `.keras` file or a preset; return the `.keras` path."""
    from seqapps import presets

    path = Path(value)
    if not path.exists() and presets.looks_like_a_name(value):
        known = presets.known_presets()
        if str(value) in known:
            return known[str(value)].model_path
        raise UserError(presets.unknown_preset_message(value))
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
