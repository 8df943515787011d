"""The docstring examples of the layers, the converters and the training config run as shown."""

import doctest
import importlib

import keras
import numpy as np
import pytest
from keras import ops

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
    "seqapps.interop",
    "seqapps.training.config",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    globs = {"np": np, "keras": keras, "ops": ops, "seqapps": seqapps, **vars(seqapps.layers)}
    globs.update(vars(module))
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    examples = 0
    for test in finder.find(module, name, globs=globs):
        if test.examples:
            examples += len(test.examples)
            runner.run(test)
    assert examples > 0, f"{name} has no docstring example"
    assert runner.failures == 0, f"{runner.failures} docstring example(s) of {name} failed"
