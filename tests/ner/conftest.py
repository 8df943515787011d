"""Fixtures: synthetic NER files and one small CRF tagger trained through the script."""

from pathlib import Path

import pytest
from support.cli import run_python
from support.ner import TINY, synthetic_sentences, write_conll
from support.shared import shared_folder

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def ner_files(tmp_path_factory):
    """`(train, dev)` CoNLL-2003-style files (IOB1, DOCSTART) of synthetic sentences."""

    def build(directory):
        write_conll(directory / "train.conll", synthetic_sentences(300, seed=0))
        write_conll(directory / "dev.conll", synthetic_sentences(60, seed=1))

    directory = shared_folder(tmp_path_factory, "ner_data", build)
    return directory / "train.conll", directory / "dev.conll"


@pytest.fixture(scope="session")
def ner_run(tmp_path_factory, ner_files):
    """A run directory trained by `python -m apps.ner.train` (CRF, BIOES, SavedModel)."""
    train, dev = ner_files

    def build(folder):
        command = ["-m", "apps.ner.train", "--data", str(train), "--dev", str(dev)]
        command += ["--out", str(folder / "run"), "--epochs", "4", "--patience", "0", *TINY]
        run_python(command)

    return shared_folder(tmp_path_factory, "ner_run", build) / "run"


@pytest.fixture(scope="session")
def ner_model(ner_run):
    """The run's model, loaded in the test process."""
    from apps import ner

    return ner.load(ner_run)
