"""Shared pytest setup: quiet TensorFlow, the data directory, subprocess helpers."""

import os
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
    from support.cli import run_python

    return run_python


@pytest.fixture
def repository_presets(monkeypatch):
    """Scripts run in this process read the repository's presets, in float32.

    Whatever the calling environment names as the presets folder is ignored, and a dtype
    policy an earlier test left behind would change the numbers the preset cards record.
    """
    import keras

    from seqapps import presets

    monkeypatch.delenv(presets.PRESETS_VARIABLE, raising=False)
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("float32")
    yield
    keras.config.set_dtype_policy(previous)
