"""Running the scripts: in-process the way `run_main` runs them, or in a fresh interpreter."""

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from seqapps.cli import run_main

REPO_ROOT = Path(__file__).resolve().parents[2]


def run_python(args, check=True, timeout=300, env=None, input=None):
    """`python args...` in a fresh interpreter from the repository root.

    With `check`, a non-zero exit fails the test with the output shown.
    """
    full_env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    full_env.update(env or {})
    result = subprocess.run(
        [sys.executable, *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
        input=input,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"{args} exited {result.returncode}\nstdout:\n{result.stdout}\n"
            f"stderr:\n{result.stderr[-4000:]}"
        )
    return result


def run_captured(capsys, module, argv):
    """`(exit status, stdout, stderr)` of `python -m <module> argv`, run in this process.

    For what a fresh interpreter adds nothing to: the scripts' own tests that need one
    (loading in a new process, serving without seqapps, signals) use `run_python`.
    """
    if isinstance(module, str):
        module = importlib.import_module(module)
    capsys.readouterr()  # what earlier steps printed is not this run's
    with pytest.raises(SystemExit) as exit_info:
        run_main(module.main, [str(arg) for arg in argv], prog=module.__name__)
    captured = capsys.readouterr()
    return exit_info.value.code, captured.out, captured.err


def run_ok(capsys, module, argv):
    """`(stdout, stderr)` of `python -m <module> argv` in this process; it must exit 0."""
    code, out, err = run_captured(capsys, module, argv)
    if code != 0:
        raise AssertionError(
            f"{module} {argv} exited {code}\nstdout:\n{out}\nstderr:\n{err[-4000:]}"
        )
    return out, err


def run(capsys, module, argv):
    """`(exit status, stderr)` of `python -m <module> argv`, run in this process."""
    code, _, err = run_captured(capsys, module, argv)
    return code, err.strip()


def check_one_line(code, err, *fragments):
    """A user error: exit 2, one line, no traceback, and the given fragments."""
    assert code == 2, err
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, err
