"""Mistakes users make get a ValueError naming the expected and received values."""

import keras
import numpy as np
import pytest

from seqapps.layers import GRU, LSTM, Bidirectional, GRUCell, LSTMCell, SimpleRNN

X = np.zeros((2, 5, 3), "float32")


def zeros(shape):
    return np.zeros(shape, "float32")


@pytest.mark.parametrize("layer_class", [SimpleRNN, GRU, LSTM])
@pytest.mark.parametrize("shape", [(2, 3), (2, 5, 3, 1), (3,)])
def test_wrong_input_rank(layer_class, shape):
    with pytest.raises(ValueError, match=r"rank 3 .*received shape .*of rank"):
        layer_class(4)(np.zeros(shape, "float32"))


@pytest.mark.parametrize("layer_class", [SimpleRNN, GRU, LSTM])
def test_wrong_feature_size_after_build(layer_class):
    layer = layer_class(4)
    layer(X)
    with pytest.raises(ValueError, match=r"built for 3 input features; received inputs with 7"):
        layer(np.zeros((2, 5, 7), "float32"))


def test_wrong_feature_size_in_functional_model():
    layer = GRU(4)
    layer(X)
    with pytest.raises(ValueError, match=r"built for 3 input features; received inputs with 9"):
        layer(keras.Input((None, 9)))


@pytest.mark.parametrize(
    ("layer", "states", "match"),
    [
        (
            GRU(4),
            [np.zeros((2, 5), "float32")],
            r"initial state 0 must have shape \(2, 4\); received \(2, 5\)",
        ),
        (SimpleRNN(4), [np.zeros((3, 4), "float32")], r"shape \(2, 4\); received \(3, 4\)"),
        (
            LSTM(4),
            [np.zeros((2, 4), "float32")],
            r"expects 2 initial state tensor\(s\).*received 1",
        ),
        (
            LSTM(4),
            [np.zeros((2, 4), "float32"), np.zeros((2, 4, 1), "float32")],
            r"initial state 1",
        ),
    ],
)
def test_wrong_initial_state(layer, states, match):
    with pytest.raises(ValueError, match=match):
        layer(X, initial_state=states)


@pytest.mark.parametrize("mask_shape", [(2, 4), (2,), (3, 5), (2, 5, 2)])
def test_wrong_mask_shape(mask_shape):
    with pytest.raises(ValueError, match=r"mask must have shape \(batch, timesteps\) = \(2, 5\)"):
        LSTM(4)(X, mask=np.ones(mask_shape, bool))


@pytest.mark.parametrize("units", [0, -3, 2.5, "8", True])
@pytest.mark.parametrize("factory", [SimpleRNN, GRU, LSTM, GRUCell, LSTMCell])
def test_units_must_be_positive_integer(factory, units):
    with pytest.raises(
        ValueError, match=rf"`units` must be a positive integer; received units={units!r}"
    ):
        factory(units)


def test_dropout_out_of_range():
    with pytest.raises(ValueError, match=r"received dropout=1.5"):
        LSTM(3, dropout=1.5)


def test_unknown_merge_mode():
    with pytest.raises(ValueError, match=r"merge_mode.*received merge_mode='max'"):
        Bidirectional(LSTM(3), merge_mode="max")


def test_bidirectional_rejects_other_layers():
    with pytest.raises(ValueError, match=r"seqapps recurrent layer.*Dense"):
        Bidirectional(keras.layers.Dense(3))
    with pytest.raises(ValueError, match=r"seqapps recurrent layer"):
        Bidirectional(keras.layers.LSTM(3))
