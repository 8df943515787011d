"""Shared pytest setup: quiet TensorFlow, the data directory, subprocess helpers."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

REPO_ROOT = Path(__file__).resolve().parent.parent


def data_dir():
    """Where the shared datasets live (`SEQAPPS_DATA`, default `../shared/data`)."""
    return Path(os.environ.get("SEQAPPS_DATA", REPO_ROOT.parent / "shared" / "data"))


@pytest.fixture
def run_python():
    """Run a Python snippet or module in a fresh interpreter from the repository root."""

    def run(args, check=True, timeout=300, env=None, input=None):
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

    return run
