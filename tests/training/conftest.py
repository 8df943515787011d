"""Fixtures for the training-loop tests: small data for each app, reference runs.

`references` trains each app once, uninterrupted, with the options the kill tests use
(`app_data`); the helpers are in `training/helpers.py`.
"""

import pytest
from training.helpers import TrainProcess, write_names, write_ner, write_sentiment


@pytest.fixture(scope="session")
def app_data(tmp_path_factory):
    """`{app: [data flags]}`: data for two epochs of several seconds each, and the
    options (tiny models, a checkpoint every 0.2 s, dropout on) every run of it uses."""
    base = tmp_path_factory.mktemp("training_data")
    common = ["--epochs", "2", "--patience", "0", "--checkpoint-every", "0.2", "--no-export"]
    common += ["--seed", "3"]
    return {
        "sentiment": [
            "--data",
            write_sentiment(base / "sentiment.csv", 2000, seed=0),
            "--dev",
            write_sentiment(base / "sentiment_dev.csv", 100, seed=1),
            *["--units", "8", "--embedding-dim", "8", "--batch-size", "16", *common],
        ],
        "ner": [
            "--data",
            write_ner(base / "ner.conll", 400, seed=0),
            "--dev",
            write_ner(base / "ner_dev.conll", 60, seed=1),
            *["--units", "16", "--word-dim", "16", "--char-dim", "8", "--char-units", "8"],
            *["--casing-dim", "4", "--lr", "0.02", "--batch-size", "16", "--dropout", "0.1"],
            *common,
        ],
        # The corpus bundled with music21; one-bar windows in pairs give 35 batches an epoch.
        "jazz": [
            *["--cache-dir", base / "jazz_cache", "--window-bars", "1", "--batch-size", "2"],
            *["--units", "16", "--layers", "1", "--embedding-dim", "8", *common],
        ],
        "names": [
            "--data",
            write_names(base / "names.txt", 1000),
            *["--units", "16", "--embedding-dim", "8", "--batch-size", "8", *common],
        ],
    }


@pytest.fixture(scope="session")
def references(tmp_path_factory, app_data):
    """`references(app)`: an uninterrupted run of `app` with `app_data[app]`, started on first
    use (so it can run beside the run a test kills) and finished by `.result(app)`."""
    base = tmp_path_factory.mktemp("reference_runs")

    class References:
        def __init__(self):
            self.processes = {}

        def start(self, app):
            if app not in self.processes:
                out = base / app
                self.processes[app] = TrainProcess(
                    f"apps.{app}.train", ["--out", out, *app_data[app]], base / f"{app}.log"
                )
            return self.processes[app]

        def result(self, app):
            """The finished reference run's directory."""
            self.start(app).finish()
            return base / app

    references = References()
    yield references
    for process in references.processes.values():
        if process.process.poll() is None:
            process.kill()
