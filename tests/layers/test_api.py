"""Shapes, states, go_backwards, merge modes, stateful, dropout and configs."""

import keras
import numpy as np
import pytest

from seqapps.layers import GRU, LSTM, Bidirectional, GRUCell, LSTMCell, SimpleRNN, SimpleRNNCell

X = np.random.default_rng(0).normal(size=(2, 6, 3)).astype("float32")
FACTORIES = {
    "rnn": (SimpleRNN, 1),
    "gru": (GRU, 1),
    "lstm": (LSTM, 2),
}


@pytest.mark.parametrize("kind", list(FACTORIES))
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("return_state", [False, True])
def test_output_shapes(kind, return_sequences, return_state):
    layer_class, state_count = FACTORIES[kind]
    layer = layer_class(4, return_sequences=return_sequences, return_state=return_state)
    result = layer(X)
    expected_output = (2, 6, 4) if return_sequences else (2, 4)
    if return_state:
        assert len(result) == 1 + state_count
        assert tuple(result[0].shape) == expected_output
        assert all(tuple(s.shape) == (2, 4) for s in result[1:])
    else:
        assert tuple(result.shape) == expected_output
    symbolic = layer.compute_output_shape((None, 6, 3))
    assert (symbolic[0] if return_state else symbolic) == (None, *expected_output[1:])


@pytest.mark.parametrize("kind", list(FACTORIES))
def test_last_output_is_last_sequence_step_and_state(kind):
    layer_class, _ = FACTORIES[kind]
    layer = layer_class(4, return_sequences=True, return_state=True)
    sequence, state, *_ = layer(X)
    np.testing.assert_allclose(sequence[:, -1], state, atol=1e-7)


@pytest.mark.parametrize("kind", list(FACTORIES))
def test_initial_state_is_used_and_chains(kind):
    layer_class, state_count = FACTORIES[kind]
    layer = layer_class(4, return_state=True)
    _, *states_first_half = layer(X[:, :3])
    _, *chained = layer(X[:, 3:], initial_state=states_first_half)
    _, *whole = layer(X)
    for got, want in zip(chained, whole):
        np.testing.assert_allclose(got, want, atol=1e-6)
    _, *from_zero = layer(X[:, 3:])
    assert not np.allclose(from_zero[0], chained[0])


@pytest.mark.parametrize("kind", list(FACTORIES))
def test_go_backwards_equals_reversed_input(kind):
    layer_class, _ = FACTORIES[kind]
    forward = layer_class(4, return_sequences=True)
    forward(X)
    backward = layer_class(4, return_sequences=True, go_backwards=True)
    backward(X)
    backward.set_weights(forward.get_weights())
    np.testing.assert_allclose(backward(X), forward(X[:, ::-1]), atol=1e-6)


@pytest.mark.parametrize("kind", list(FACTORIES))
def test_stateful_carries_state_between_calls(kind):
    layer_class, _ = FACTORIES[kind]
    stateful = layer_class(4, stateful=True)
    stateful(X[:, :3])
    second = stateful(X[:, 3:])
    whole = layer_class(4)
    whole(X)
    whole.set_weights(stateful.get_weights())
    np.testing.assert_allclose(second, whole(X), atol=1e-6)
    stateful.reset_state()
    np.testing.assert_allclose(stateful(X), whole(X), atol=1e-6)


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "ave", "mul", None])
def test_bidirectional_merge_modes(merge_mode):
    inner = LSTM(4, return_sequences=True)
    layer = Bidirectional(inner, merge_mode=merge_mode)
    result = layer(X)
    forward = layer.forward_layer(X).numpy()
    backward = layer.backward_layer(X).numpy()[:, ::-1]
    expected = {
        "concat": np.concatenate([forward, backward], -1),
        "sum": forward + backward,
        "ave": (forward + backward) / 2,
        "mul": forward * backward,
    }
    if merge_mode is None:
        np.testing.assert_allclose(result[0], forward, atol=1e-6)
        np.testing.assert_allclose(result[1], backward, atol=1e-6)
    else:
        np.testing.assert_allclose(result, expected[merge_mode], atol=1e-6)


def test_bidirectional_states_and_initial_state():
    layer = Bidirectional(GRU(4, return_state=True))
    output, forward_state, backward_state = layer(X)
    assert tuple(output.shape) == (2, 8)
    np.testing.assert_allclose(output[:, :4], forward_state, atol=1e-7)
    initial = [np.ones((2, 4), "float32"), -np.ones((2, 4), "float32")]
    shifted, *_ = layer(X, initial_state=initial)
    assert not np.allclose(shifted, output)


def test_dropout_only_in_training_and_one_mask_per_sequence():
    layer = LSTM(8, dropout=0.5, recurrent_dropout=0.5, seed=1, return_sequences=True)
    inference = layer(X)
    np.testing.assert_allclose(layer(X, training=False), inference)
    trained = layer(X, training=True)
    assert not np.allclose(trained, inference)
    # With no recurrence, a constant input gives the same output at every
    # step only if the input dropout mask is shared across steps.
    ones = np.ones((1, 5, 40), "float32")
    simple_seq = SimpleRNN(
        3,
        dropout=0.5,
        seed=2,
        use_bias=False,
        recurrent_initializer="zeros",
        return_sequences=True,
    )
    simple_seq(ones)
    steps = simple_seq(ones, training=True).numpy()[0]
    np.testing.assert_allclose(steps, np.repeat(steps[:1], 5, axis=0), atol=1e-6)
    assert not np.allclose(steps, simple_seq(ones).numpy()[0])


def test_lstm_unit_forget_bias():
    layer = LSTM(3)
    layer(X)
    np.testing.assert_array_equal(layer.cell.bias.numpy(), [0, 0, 0, 1, 1, 1] + [0] * 6)
    plain = LSTM(3, unit_forget_bias=False)
    plain(X)
    np.testing.assert_array_equal(plain.cell.bias.numpy(), np.zeros(12))


def test_weight_shapes_follow_documented_layout():
    for layer, width in [(SimpleRNN(4), 4), (GRU(4), 12), (GRU(4, relevance_gate=False), 8)]:
        layer(X)
        assert [tuple(w.shape) for w in layer.weights] == [(3, width), (4, width), (width,)]
    layer = LSTM(4)
    layer(X)
    assert [tuple(w.shape) for w in layer.weights] == [(3, 16), (4, 16), (16,)]


@pytest.mark.slow
def test_regularizers_and_constraints_apply():
    layer = GRU(
        4,
        kernel_regularizer="l2",
        recurrent_regularizer="l1",
        bias_regularizer="l2",
        kernel_constraint=keras.constraints.MaxNorm(0.01),
    )
    model = keras.Sequential([keras.Input((6, 3)), layer, keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    assert len(model.losses) == 3
    model.fit(X, np.ones((2, 1)), epochs=1, verbose=0)
    norms = np.sqrt((layer.cell.kernel.numpy() ** 2).sum(axis=0))
    assert norms.max() <= 0.01 + 1e-6


@pytest.mark.parametrize(
    ("layer_class", "arguments"),
    [
        (
            SimpleRNN,
            {"units": 3, "activation": "relu", "dropout": 0.1, "seed": 4, "go_backwards": True},
        ),
        (
            GRU,
            {"units": 3, "relevance_gate": False, "recurrent_dropout": 0.2, "return_state": True},
        ),
        (LSTM, {"units": 3, "unit_forget_bias": False, "use_bias": False, "unroll": True}),
    ],
    ids=lambda value: value.__name__ if isinstance(value, type) else "",
)
def test_get_config_round_trip(layer_class, arguments):
    layer = layer_class(**arguments)
    default = layer_class(3)
    config = layer.get_config()
    clone = layer_class.from_config(config)
    cell_clone = type(layer.cell).from_config(layer.cell.get_config())
    for key, value in arguments.items():
        # Every argument given is in the config, and differs from the default (so a key
        # dropped from get_config would bring back the default value and fail here).
        assert config[key] == value, key
        if key != "units":
            assert default.get_config()[key] != value, key
        assert clone.get_config()[key] == value, key
        if key in layer.cell.get_config():
            assert cell_clone.get_config()[key] == value, key
    assert clone.get_config() == config
    assert cell_clone.get_config() == layer.cell.get_config()


def test_cells_run_in_stock_keras_rnn():
    for cell in [SimpleRNNCell(3), GRUCell(3), LSTMCell(3)]:
        output = keras.layers.RNN(cell)(X)
        assert tuple(output.shape) == (2, 3)


def test_properties_read_through_to_the_cell():
    layer = GRU(7, dropout=0.25, relevance_gate=False)
    assert (layer.units, layer.dropout, layer.relevance_gate) == (7, 0.25, False)


def _dropout_masks(layer):
    """The input dropout masks the two directions draw for one training call."""
    x = np.ones((4, 3, 6), "float32")
    layer(x)
    masks = []
    for direction in (layer.forward_layer, layer.backward_layer):
        direction.cell.reset_dropout_mask()
        masks.append(np.asarray(direction.cell.get_dropout_mask(x[:, 0])))
    return masks


@pytest.mark.parametrize("layer_class", [SimpleRNN, GRU, LSTM])
def test_bidirectional_directions_draw_different_dropout_masks(layer_class):
    forward, backward = _dropout_masks(Bidirectional(layer_class(8, dropout=0.5, seed=11)))
    assert not np.array_equal(forward, backward)
    # The same seed reproduces both directions' masks.
    again_forward, again_backward = _dropout_masks(
        Bidirectional(layer_class(8, dropout=0.5, seed=11))
    )
    np.testing.assert_array_equal(forward, again_forward)
    np.testing.assert_array_equal(backward, again_backward)


def test_bidirectional_backward_seed_survives_serialization():
    layer = Bidirectional(LSTM(4, dropout=0.3, seed=5))
    revived = Bidirectional.from_config(layer.get_config())
    assert revived.backward_layer.cell.seed == layer.backward_layer.cell.seed
    assert revived.backward_layer.cell.seed != revived.forward_layer.cell.seed
    assert revived.backward_layer.name == "backward_" + revived.forward_layer.name.removeprefix(
        "forward_"
    )
