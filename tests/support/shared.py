"""Session fixtures built once for all pytest-xdist workers.

Two workers that each need the same trained run would otherwise train it twice. The
first to ask builds it in a folder beside the workers' own temporary folders, under a
file lock; the other waits for it and reuses it. The built folder is read-only by
convention: tests that change a run copy it first.
"""

import contextlib
import fcntl
import os
import shutil


@contextlib.contextmanager
def _locked(path):
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def shared_folder(tmp_path_factory, name, build):
    """The folder `build(folder)` filled, built once per test session.

    Args:
        tmp_path_factory: pytest's session factory.
        name: The folder's name, unique per kind of content.
        build: `build(folder)` writes the content into the (new, empty) folder; it is
            called by one worker only. A build that raises leaves nothing behind, and
            the next worker that asks tries again.
    """
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # shared by the workers of this session
    folder = root / f"shared-{name}"
    done = folder / ".built"
    with _locked(root / f"shared-{name}.lock"):
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            try:
                build(folder)
            except BaseException:
                shutil.rmtree(folder, ignore_errors=True)
                raise
            done.touch()
    return folder
