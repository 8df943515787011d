"""What a user sees: a prediction's stderr holds our lines only, no TensorFlow log lines."""

import os
import re
import subprocess
import sys

import pytest
from support.cli import REPO_ROOT

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("app", "argv", "preset"),
    [
        ("names", ["-n", "2"], "dinos"),
        ("sentiment", ["A gorgeous, witty film."], "sst2"),
    ],
)
def test_a_prediction_with_the_default_preset_prints_no_native_log_lines(app, argv, preset):
    # As a user runs it: without the variable that silences TensorFlow's C++ logging.
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("TF_CPP_MIN_LOG_LEVEL", "SEQAPPS_PRESETS")
    }
    result = subprocess.run(
        [sys.executable, "-m", f"apps.{app}.predict", *argv],
        cwd=REPO_ROOT,
        env={**env, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0] == f"apps.{app}.predict: no --model given; using the preset '{preset}'"
    # absl's format: severity letter, month and day, time, thread, file:line].
    native = [line for line in lines if re.match(r"[IWEF]\d{4} ", line) or "absl::" in line]
    assert native == []
    assert result.stdout.strip()
