"""Fixtures: synthetic sentiment data and one small trained run."""

import pytest
from support.sentiment import SMALL, synthetic_rows, write_csv
from support.shared import shared_folder


@pytest.fixture(scope="session")
def sentiment_csv(tmp_path_factory):
    def build(directory):
        write_csv(directory / "train.csv", synthetic_rows(320, seed=0))
        write_csv(directory / "dev.csv", synthetic_rows(80, seed=1))

    directory = shared_folder(tmp_path_factory, "sentiment_data", build)
    return directory / "train.csv", directory / "dev.csv"


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory, sentiment_csv):
    """One small model trained through the script, shared by the read-only tests."""
    from support.cli import run_python

    train, dev = sentiment_csv

    def build(folder):
        out = str(folder / "run")
        run_python(
            ["-m", "apps.sentiment.train", "--data", str(train), "--dev", str(dev), "--out", out]
            + ["--epochs", "4", "--patience", "0", *SMALL]
        )

    return shared_folder(tmp_path_factory, "sentiment_run", build) / "run"
