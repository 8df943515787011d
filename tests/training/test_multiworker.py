"""Multi-worker training, run for real: two worker processes on 127.0.0.1 with `TF_CONFIG`.

This is how `tf.distribute.MultiWorkerMirroredStrategy` is tested on one machine: each
worker is a process with its own `TF_CONFIG` task index, on free local ports, with
`CUDA_VISIBLE_DEVICES=-1`. The workers train the sentiment and NER apps on small
synthetic data; the chief's model must equal a single-process run with the same global
batch, only the chief may write the run directory, and a job that loses a worker must
stop with a message that says how to resume, which then works.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
from training.helpers import REPO_ROOT, TIMEOUT, keras_weights, write_ner, write_sentiment

from seqapps.training import worker_directory

pytestmark = pytest.mark.slow

SMALL = {
    # Dropout off: each replica draws its own masks, so only a dropout-free run can be
    # compared with one process. Sizes are multiples of the global batch (16): every
    # batch splits evenly over the two workers.
    "sentiment": [
        *["--units", "8", "--embedding-dim", "8", "--dropout", "0", "--embedding-dropout", "0"]
    ],
    "ner": [
        *["--units", "8", "--word-dim", "8", "--char-dim", "4", "--char-units", "4"],
        *["--casing-dim", "2", "--dropout", "0"],
    ],
}
COMMON = ["--batch-size", "16", "--lr", "0.02", "--patience", "0", "--no-export", "--seed", "5"]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    base = tmp_path_factory.mktemp("multiworker_data")
    return {
        "sentiment": [
            *["--data", write_sentiment(base / "train.csv", 320, seed=0)],
            *["--dev", write_sentiment(base / "dev.csv", 48, seed=1)],
        ],
        "ner": [
            *["--data", write_ner(base / "train.conll", 160, seed=0)],
            *["--dev", write_ner(base / "dev.conll", 32, seed=1)],
        ],
    }


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for each in sockets:
        each.bind(("127.0.0.1", 0))
    ports = [each.getsockname()[1] for each in sockets]
    for each in sockets:
        each.close()
    return ports


def environment(tf_config=None):
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "CUDA_VISIBLE_DEVICES": "-1",
    }
    env.pop("TF_CONFIG", None)
    if tf_config is not None:
        env["TF_CONFIG"] = json.dumps(tf_config)
    return env


class Job:
    """The two workers of one job, each `python -m apps.<app>.train ARGV`."""

    def __init__(self, app, argv, logs):
        ports = free_ports(2)
        cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
        self.logs = [logs / f"worker{index}.log" for index in range(2)]
        self.workers = []
        for index, log in enumerate(self.logs):
            config = {"cluster": cluster, "task": {"type": "worker", "index": index}}
            with open(log, "w") as handle:
                self.workers.append(
                    subprocess.Popen(
                        [sys.executable, "-m", f"apps.{app}.train", *map(str, argv)],
                        cwd=REPO_ROOT,
                        env=environment(config),
                        stdout=subprocess.DEVNULL,
                        stderr=handle,
                    )
                )

    def stderr(self, index):
        return self.logs[index].read_text()

    def wait(self):
        codes = []
        for worker in self.workers:
            try:
                codes.append(worker.wait(TIMEOUT))
            except subprocess.TimeoutExpired:
                for each in self.workers:
                    each.kill()
                raise AssertionError(f"a worker hung\n{self.stderr(0)[-3000:]}") from None
        return codes

    def finish(self):
        codes = self.wait()
        assert codes == [0, 0], (
            f"exit codes {codes}\n{self.stderr(0)[-3000:]}\n" + (self.stderr(1)[-3000:])
        )


def single_process(app, argv):
    result = subprocess.run(
        [sys.executable, "-m", f"apps.{app}.train", *map(str, argv)],
        cwd=REPO_ROOT,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.mark.parametrize("app", ["sentiment", "ner"])
def test_two_workers_train_what_one_process_trains(app, data, tmp_path):
    out, alone = tmp_path / "job", tmp_path / "alone"
    argv = [*data[app], *SMALL[app], *COMMON, "--epochs", "1"]
    job = Job(app, ["--out", out, "--strategy", "multiworker", *argv], tmp_path)
    single_process(app, ["--out", alone, *argv])
    job.finish()

    # Only the chief wrote --out; the other worker's private copy is gone.
    assert (out / "model.keras").is_file() and (out / "config.json").is_file()
    assert not worker_directory(out, 1).exists()
    assert f"Wrote {out}" in job.stderr(0)
    assert f"Wrote {out}" not in job.stderr(1)

    ours, theirs = keras_weights(out / "model.keras"), keras_weights(alone / "model.keras")
    assert ours.keys() == theirs.keys() and ours
    gap = max(float(np.max(np.abs(ours[k] - theirs[k]))) for k in ours if ours[k].dtype.kind == "f")
    assert gap < 1e-4, f"chief and single-process weights differ by {gap}"

    text = "Angela Merkel visited Paris ." if app == "ner" else "a wonderful film"
    predicted = subprocess.run(
        [sys.executable, "-m", f"apps.{app}.predict", "--model", str(out), text],
        cwd=REPO_ROOT,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert predicted.returncode == 0, predicted.stderr[-2000:]
    assert predicted.stdout.strip()


def test_lost_worker_stops_the_job_and_resume_continues(data, tmp_path):
    out = tmp_path / "job"
    argv = [*data["sentiment"], *SMALL["sentiment"], *COMMON, "--epochs", "3"]
    argv += ["--checkpoint-batches", "4"]
    job = Job("sentiment", ["--out", out, "--strategy", "multiworker", *argv], tmp_path)
    state = out / "checkpoint" / "state.json"
    deadline = time.monotonic() + TIMEOUT
    while not state.is_file() or json.loads(state.read_text())["epoch"] < 1:
        assert job.workers[0].poll() is None, job.stderr(0)[-3000:]
        assert time.monotonic() < deadline, "no checkpoint after the first epoch"
        time.sleep(0.05)
    job.workers[1].send_signal(signal.SIGKILL)
    codes = job.wait()
    assert codes[0] == 2, job.stderr(0)[-3000:]
    last = job.stderr(0).strip().splitlines()[-1]
    assert "lost a worker" in last and "--resume" in last and "--strategy multiworker" in last
    assert worker_directory(out, 1).exists()  # kept: the restarted worker resumes from it

    again = tmp_path / "again"
    again.mkdir()
    resumed = Job("sentiment", ["--resume", "--out", out, "--strategy", "multiworker"], again)
    resumed.finish()
    assert "Resuming" in resumed.stderr(0) and "Resuming" in resumed.stderr(1)
    assert (out / "model.keras").is_file()
    assert not worker_directory(out, 1).exists()
    epochs = [line.split(",")[0] for line in (out / "history.csv").read_text().splitlines()[1:]]
    assert epochs == ["1", "2", "3"]
