"""`--help` and argument errors answer without importing TensorFlow or Keras."""

import os
import subprocess
import sys

import pytest

APPS = ("sentiment", "ner", "jazz", "names")
SCRIPTS = ("train", "predict", "evaluate", "export")


def run_script(module, *argv):
    """Run `python -X importtime -m module argv`; return (status, stdout, imported modules)."""
    environment = {**os.environ, "PYTHONPATH": os.getcwd()}
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", module, *argv],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
    )
    imported = {
        line.rsplit("|", 1)[-1].strip().split(".")[0]
        for line in result.stderr.splitlines()
        if line.startswith("import time:")
    }
    messages = [line for line in result.stderr.splitlines() if not line.startswith("import time:")]
    return result.returncode, result.stdout, imported, "\n".join(messages)


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS)
@pytest.mark.parametrize("app", APPS)
def test_help_does_not_import_tensorflow(app, script):
    status, stdout, imported, _ = run_script(f"apps.{app}.{script}", "--help")
    assert status == 0
    assert stdout.startswith("usage: ")
    assert not imported & {"tensorflow", "keras"}, f"apps.{app}.{script} --help imported them"


@pytest.mark.slow
@pytest.mark.parametrize("app", APPS)
def test_an_argument_error_does_not_import_tensorflow(app):
    status, _, imported, messages = run_script(f"apps.{app}.train", "--batch-size", "0")
    assert status == 2
    assert (
        messages == f"apps.{app}.train: error: --batch-size must be a positive integer; received 0"
    )
    assert not imported & {"tensorflow", "keras"}
