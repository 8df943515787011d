"""Keras's own RNN layer tests, run against the seqapps layers.

The test files ship inside the installed keras wheel
(`keras/src/layers/rnn/{simple_rnn,gru,lstm,bidirectional}_test.py`). Each is loaded
from there at collection time, as a private copy whose `layers` namespace has
`SimpleRNN`, `GRU`, `LSTM`, `Bidirectional` and their cells replaced by ours, so every
`layers.GRU(...)` in Keras's tests builds a seqapps layer. `GRU` is our GRU with
Keras's default `reset_after=True`; everything else is ours with its own defaults.

Tests that cannot apply to a drop-in are excluded below, each with its reason; every
other test of the four files must pass.
"""

import importlib.util
import sys
import types
import unittest
from pathlib import Path

import keras
import numpy as np
import pytest
from keras import ops

import seqapps.layers

KERAS_RNN_TESTS = Path(keras.__file__).parent / "src" / "layers" / "rnn"
SUITE_FILES = ("simple_rnn_test", "gru_test", "lstm_test", "bidirectional_test")


@keras.saving.register_keras_serializable(package="seqapps_keras_suite")
class GRU(seqapps.layers.GRU):
    """Our GRU with Keras's default form, so `layers.GRU(3)` means what Keras means."""

    def __init__(self, units, reset_after=True, **kwargs):
        super().__init__(units, reset_after=reset_after, **kwargs)


@keras.saving.register_keras_serializable(package="seqapps_keras_suite")
class GRUCell(seqapps.layers.GRUCell):
    """Our GRU cell with Keras's default `reset_after=True`."""

    def __init__(self, units, reset_after=True, **kwargs):
        super().__init__(units, reset_after=reset_after, **kwargs)


REPLACED = {
    "SimpleRNN": seqapps.layers.SimpleRNN,
    "SimpleRNNCell": seqapps.layers.SimpleRNNCell,
    "GRU": GRU,
    "GRUCell": GRUCell,
    "LSTM": seqapps.layers.LSTM,
    "LSTMCell": seqapps.layers.LSTMCell,
    "Bidirectional": seqapps.layers.Bidirectional,
}

_COURSE_FORM = (
    "its reset_after=False case expects Keras's update convention h = z*h + (1-z)*h~ "
    "under constant weights, while our reset_after=False is the course form (u = 1 - z); "
    "test_gru_correctness_cases_match_keras covers every case of it against keras.layers.GRU"
)
# "<file>::<Class>::<test>": why the test cannot apply to a drop-in replacement.
EXCLUDED = {
    "gru_test::GRUTest::test_correctness0": _COURSE_FORM,
    "gru_test::GRUTest::test_correctness1": _COURSE_FORM,
}


def _substituted_layers(keras_layers):
    namespace = types.ModuleType("seqapps_keras_suite_layers")
    namespace.__dict__.update(vars(keras_layers))
    namespace.__dict__.update(REPLACED)
    return namespace


def _load(file_stem):
    path = KERAS_RNN_TESTS / f"{file_stem}.py"
    if not path.is_file():
        raise FileNotFoundError(
            f"the installed keras has no {path}; is keras {keras.__version__} complete?"
        )
    name = f"seqapps_keras_suite.{file_stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    module.layers = _substituted_layers(module.layers)
    return module


def _collect():
    collected = {}
    for stem in SUITE_FILES:
        module = _load(stem)
        for name, value in vars(module).items():
            if not (isinstance(value, type) and issubclass(value, unittest.TestCase)):
                continue
            if value.__module__ != module.__name__:
                continue
            attributes = {"__module__": __name__, "__qualname__": f"Keras_{stem}_{name}"}
            for test_name in dir(value):
                key = f"{stem}::{name}::{test_name}"
                if key in EXCLUDED:
                    attributes[test_name] = unittest.skip(f"excluded: {EXCLUDED[key]}")(
                        getattr(value, test_name)
                    )
            # Keras's suite is marked slow (its test_basics train models): plain `pytest` runs
            # it, `pytest -m "not slow"` keeps the tests of this module below.
            suite = type(f"Keras_{stem}_{name}", (value,), attributes)
            collected[f"Keras_{stem}_{name}"] = pytest.mark.slow(suite)
    return collected


globals().update(_collect())


def test_every_exclusion_names_an_existing_keras_test():
    present = set()
    for stem in SUITE_FILES:
        module = sys.modules[f"seqapps_keras_suite.{stem}"]
        for name, value in vars(module).items():
            if isinstance(value, type) and issubclass(value, unittest.TestCase):
                present.update(f"{stem}::{name}::{test}" for test in dir(value))
    assert not set(EXCLUDED) - present


@pytest.mark.parametrize("name", sorted(REPLACED))
def test_suite_uses_seqapps_layers(name):
    module = sys.modules["seqapps_keras_suite.gru_test"]
    assert getattr(module.layers, name) is REPLACED[name]
    assert getattr(module.layers, name).__module__.startswith(("seqapps", __name__))


CONSTANT_WEIGHTS = {
    "kernel_initializer": keras.initializers.Constant(0.01),
    "recurrent_initializer": keras.initializers.Constant(0.02),
    "bias_initializer": keras.initializers.Constant(0.03),
}


@pytest.mark.parametrize(
    "options",
    [{}, {"go_backwards": True}, {"unroll": True}, {"reset_after": False}, {"use_bias": False}],
    ids=["default", "go_backwards", "unroll", "reset_after_false", "no_bias"],
)
def test_gru_correctness_cases_match_keras(options):
    # The cases of Keras's excluded GRUTest.test_correctness, compared live with
    # keras.layers.GRU. The reset-before case goes through from_keras, which maps
    # Keras's update gate z to the course form's u = 1 - z.
    from seqapps.interop import from_keras

    sequence = np.arange(72).reshape((3, 6, 4)).astype("float32")
    stock = keras.layers.GRU(3, **CONSTANT_WEIGHTS, **options)
    expected = ops.convert_to_numpy(stock(sequence))
    if options.get("reset_after") is False:
        ours = from_keras(stock)
    else:
        ours = GRU(3, **CONSTANT_WEIGHTS, **options)
    np.testing.assert_allclose(ops.convert_to_numpy(ours(sequence)), expected, atol=1e-5)
