"""Fixtures: synthetic sentiment data and one small trained run."""

import pytest
from support.sentiment import SMALL, synthetic_rows, write_csv


@pytest.fixture(scope="session")
def sentiment_csv(tmp_path_factory):
    directory = tmp_path_factory.mktemp("sentiment_data")
    return (
        write_csv(directory / "train.csv", synthetic_rows(320, seed=0)),
        write_csv(directory / "dev.csv", synthetic_rows(80, seed=1)),
    )


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory, sentiment_csv):
    """One small model trained through the script, shared by the read-only tests."""
    from support.cli import run_python

    train, dev = sentiment_csv
    out = tmp_path_factory.mktemp("runs") / "run"
    run_python(
        ["-m", "apps.sentiment.train", "--data", str(train), "--dev", str(dev), "--out", str(out)]
        + ["--epochs", "4", "--patience", "0", *SMALL]
    )
    return out
