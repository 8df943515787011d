"""Fixtures: synthetic names and one tiny model trained on them, shared by the read-only tests."""

import random

import pytest
from support.names import tiny_run
from support.shared import shared_folder

STARTS = ["Al", "Bra", "Cer", "Dra", "Ele", "Fo", "Gi", "Ha", "Io", "Ju", "Ky", "Lo"]
MIDDLES = ["", "no", "ra", "ti", "lo", "ce"]
ENDS = ["saurus", "don", "raptor", "ops", "mimus"]


def synthetic_names(count, seed=0):
    """Distinct dinosaur-like names built from a few syllables."""
    rng = random.Random(seed)
    names = set()
    while len(names) < count:
        names.add(rng.choice(STARTS) + rng.choice(MIDDLES) + rng.choice(ENDS))
    return sorted(names)


@pytest.fixture(scope="session")
def names_file(tmp_path_factory):
    def build(folder):
        text = "\n".join(synthetic_names(160)) + "\n"
        (folder / "names.txt").write_text(text, encoding="utf-8")

    return shared_folder(tmp_path_factory, "names_data", build) / "names.txt"


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory, names_file):
    """A tiny model, SavedModel included, shared by the read-only tests."""
    no_dropout = {"dropout": 0.0, "embedding_dropout": 0.0, "recurrent_dropout": 0.0}
    return tiny_run(tmp_path_factory, names_file, "names_run", **no_dropout)


@pytest.fixture(scope="session")
def model(trained_run):
    from apps import names

    return names.load(trained_run)
