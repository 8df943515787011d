"""Helpers of the training-loop tests: subprocesses to kill, TensorFlow-free drivers, data."""

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 300


def python_env(**extra):
    return {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "TF_CPP_MIN_LOG_LEVEL": "3",
        **extra,
    }


def stub_seqapps_code(body):
    """Python code that runs `body` with `seqapps.files` and `seqapps.training` importable
    without TensorFlow: the package's `__init__` (which imports TensorFlow) is skipped."""
    return (
        "import sys, types\n"
        "package = types.ModuleType('seqapps')\n"
        f"package.__path__ = [{str(REPO_ROOT / 'seqapps')!r}]\n"
        "sys.modules['seqapps'] = package\n" + body
    )


def run_stubbed(body, kill_at=None, timeout=60):
    """Run `body` (see `stub_seqapps_code`) in a subprocess; `kill_at` sets the kill hook."""
    env = python_env()
    env.pop("SEQAPPS_TEST_KILL_AT", None)
    if kill_at:
        env["SEQAPPS_TEST_KILL_AT"] = kill_at
    return subprocess.run(
        [sys.executable, "-c", stub_seqapps_code(body)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


class TrainProcess:
    """`python -m <module> ARGV` in the background, stderr kept in `log`."""

    def __init__(self, module, argv, log):
        self.log = Path(log)
        self.command = [sys.executable, "-m", module, *map(str, argv)]
        with open(self.log, "w") as handle:
            self.process = subprocess.Popen(
                self.command,
                cwd=REPO_ROOT,
                env=python_env(),
                stdout=subprocess.DEVNULL,
                stderr=handle,
            )

    @property
    def stderr(self):
        return self.log.read_text()

    def wait_for_state(self, out, done, timeout=TIMEOUT):
        """Wait until `out/checkpoint/state.json` satisfies `done(state)`; return the state."""
        path = Path(out) / "checkpoint" / "state.json"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"{self.command} exited {self.process.returncode} before the checkpoint "
                    f"the test waits for\n{self.stderr[-4000:]}"
                )
            try:
                state = json.loads(path.read_text())
            except (OSError, ValueError):
                state = None
            if state is not None and done(state):
                return state
            time.sleep(0.03)
        raise AssertionError(f"no such checkpoint within {timeout} s\n{self.stderr[-4000:]}")

    def wait_for_text(self, text, timeout=TIMEOUT):
        """Wait until the process has written `text` to stderr."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.stderr:
                return
            if self.process.poll() is not None:
                raise AssertionError(f"exited before writing {text!r}\n{self.stderr[-4000:]}")
            time.sleep(0.03)
        raise AssertionError(f"no {text!r} within {timeout} s\n{self.stderr[-4000:]}")

    def signal(self, number):
        self.process.send_signal(number)

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(TIMEOUT)

    def wait(self, timeout=TIMEOUT):
        return self.process.wait(timeout)

    def finish(self):
        """Wait for a normal end; fail with the log otherwise."""
        code = self.wait()
        assert code == 0, f"{self.command} exited {code}\n{self.stderr[-4000:]}"
        return self


def keras_weights(keras_file):
    """`{dataset path: array}` of the weights inside a `.keras` file (read with h5py)."""
    import io
    import zipfile

    import h5py

    arrays = {}
    with zipfile.ZipFile(keras_file) as archive:
        data = archive.read("model.weights.h5")
    with h5py.File(io.BytesIO(data), "r") as store:
        store.visititems(
            lambda name, item: (
                arrays.__setitem__(name, item[()]) if isinstance(item, h5py.Dataset) else None
            )
        )
    return arrays


# Data -------------------------------------------------------------------------------------


def write_sentiment(path, count, seed):
    from support.sentiment import synthetic_rows, write_csv

    return write_csv(path, synthetic_rows(count, seed=seed))


def write_ner(path, count, seed):
    from support.ner import synthetic_sentences, write_conll

    return write_conll(path, synthetic_sentences(count, seed=seed))


def write_names(path, count, seed=0):
    rng = random.Random(seed)
    starts = ["Al", "Bra", "Cer", "Dra", "Ele", "Fo", "Gi", "Ha", "Io", "Ju", "Ky", "Lo", "Ma"]
    middles = ["", "no", "ra", "ti", "lo", "ce", "ma", "ve"]
    ends = ["saurus", "don", "raptor", "ops", "mimus", "tops", "nyx"]
    names = set()
    while len(names) < count:
        names.add(rng.choice(starts) + rng.choice(middles) + rng.choice(middles) + rng.choice(ends))
    path.write_text("\n".join(sorted(names)) + "\n", encoding="utf-8")
    return path
