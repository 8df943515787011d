"""Every constructor argument of Keras's recurrent layers and cells is accepted by ours,
with Keras's meaning and default, and comes back from `get_config`."""

import inspect

import keras
import numpy as np
import pytest

from seqapps.layers import GRU, LSTM, Bidirectional, GRUCell, LSTMCell, SimpleRNN, SimpleRNNCell

PAIRS = {
    "SimpleRNN": (keras.layers.SimpleRNN, SimpleRNN),
    "GRU": (keras.layers.GRU, GRU),
    "LSTM": (keras.layers.LSTM, LSTM),
    "SimpleRNNCell": (keras.layers.SimpleRNNCell, SimpleRNNCell),
    "GRUCell": (keras.layers.GRUCell, GRUCell),
    "LSTMCell": (keras.layers.LSTMCell, LSTMCell),
}
# Arguments Keras takes through **kwargs rather than its signature.
HIDDEN_KERAS_ARGUMENTS = {"GRU": {"implementation": 1}, "LSTM": {"implementation": 1}}
HIDDEN_KERAS_ARGUMENTS["GRUCell"] = HIDDEN_KERAS_ARGUMENTS["LSTMCell"] = {"implementation": 1}


def _keras_arguments(keras_class):
    """Every named argument of the Keras constructor, at Keras's default."""
    return {
        name: parameter.default
        for name, parameter in inspect.signature(keras_class.__init__).parameters.items()
        if name not in ("self", "kwargs") and parameter.default is not inspect.Parameter.empty
    }


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_every_keras_argument_is_accepted_with_the_same_config(name):
    keras_class, ours_class = PAIRS[name]
    arguments = {**_keras_arguments(keras_class), **HIDDEN_KERAS_ARGUMENTS.get(name, {})}
    arguments.update(units=3, name="same")
    theirs = keras_class(**arguments)
    ours = ours_class(**arguments)
    keras_config, ours_config = theirs.get_config(), ours.get_config()
    differing = {
        key: (value, ours_config.get(key, "<missing>"))
        for key, value in keras_config.items()
        if ours_config.get(key, "<missing>") != value
    }
    assert differing == {}
    revived = ours_class.from_config(ours_config)
    assert revived.get_config() == ours_config


@pytest.mark.parametrize("name", ["SimpleRNN", "GRU", "LSTM"])
def test_keras_defaults_compute_the_same_function(name):
    # Keras's defaults passed explicitly (GRU: reset_after=True) give Keras's function.
    keras_class, ours_class = PAIRS[name]
    arguments = {**_keras_arguments(keras_class), "units": 3}
    x = np.random.default_rng(0).normal(size=(2, 5, 4)).astype("float32")
    theirs, ours = keras_class(**arguments), ours_class(**arguments)
    theirs(x)
    ours(x)
    ours.set_weights(theirs.get_weights())
    np.testing.assert_allclose(np.asarray(ours(x)), np.asarray(theirs(x)), atol=1e-6)


def test_bidirectional_takes_keras_arguments():
    keras_arguments = set(inspect.signature(keras.layers.Bidirectional.__init__).parameters)
    ours_arguments = set(inspect.signature(Bidirectional.__init__).parameters)
    assert keras_arguments <= ours_arguments
    x = np.random.default_rng(1).normal(size=(2, 5, 4)).astype("float32")
    source = Bidirectional(LSTM(3))
    source(x)
    initial = source.get_weights()
    layer = Bidirectional(LSTM(3), merge_mode="sum", weights=initial, backward_layer=None)
    layer(x)
    for got, want in zip(layer.get_weights(), initial):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("value", [0, 1, 2])
def test_implementation_is_accepted_and_changes_nothing(value):
    x = np.random.default_rng(2).normal(size=(2, 5, 4)).astype("float32")
    reference = GRU(3, reset_after=True)
    reference(x)
    layer = GRU(3, reset_after=True, implementation=value)
    layer(x)
    layer.set_weights(reference.get_weights())
    np.testing.assert_array_equal(np.asarray(layer(x)), np.asarray(reference(x)))
    with pytest.raises(ValueError, match="implementation"):
        LSTM(3, implementation=3)
