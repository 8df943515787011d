"""The docstring examples of the layers, the converters and the training config run as shown."""

import importlib

import keras
import numpy as np
import pytest
from keras import ops
from support.doctests import run_examples

import seqapps
import seqapps.layers

MODULES = [
    "seqapps.layers.simple_rnn_cell",
    "seqapps.layers.simple_rnn",
    "seqapps.layers.gru_cell",
    "seqapps.layers.gru",
    "seqapps.layers.lstm_cell",
    "seqapps.layers.lstm",
    "seqapps.layers.bidirectional",
    "seqapps.layers.stacking",
    "seqapps.layers.char_encoder",
    "seqapps.interop",
    "seqapps.training.config",
    "seqapps.music.chords",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    globs = {"np": np, "keras": keras, "ops": ops, "seqapps": seqapps, **vars(seqapps.layers)}
    globs.update(vars(module))
    examples, failures = run_examples(module, name, globs)
    assert examples > 0, f"{name} has no docstring example"
    assert failures == 0, f"{failures} docstring example(s) of {name} failed"
