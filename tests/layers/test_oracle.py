"""The layers against the numpy oracle: forward values and BPTT gradients."""

import numpy as np
import pytest
import tensorflow as tf

from seqapps import reference
from seqapps.layers import GRU, LSTM, SimpleRNN

BATCH, TIME, FEATURES, UNITS = 3, 6, 4, 5

KINDS = {
    "rnn": (SimpleRNN, {}, reference.simple_rnn_forward, reference.simple_rnn_backward),
    "gru": (GRU, {}, reference.gru_forward, reference.gru_backward),
    "gru_simplified": (
        GRU,
        {"relevance_gate": False},
        lambda *a: reference.gru_forward(*a, relevance_gate=False),
        reference.gru_backward,
    ),
    "lstm": (LSTM, {}, reference.lstm_forward, reference.lstm_backward),
}


def _setup(kind, seed=0):
    layer_class, kwargs, forward, backward = KINDS[kind]
    rng = np.random.default_rng(seed)
    layer = layer_class(UNITS, return_sequences=True, return_state=True, **kwargs)
    x = rng.normal(size=(BATCH, TIME, FEATURES)).astype("float32")
    state_count = 2 if kind == "lstm" else 1
    states = [rng.normal(scale=0.5, size=(BATCH, UNITS)).astype("float32")] * state_count
    states = [s * (i + 1) for i, s in enumerate(states)]
    layer(x, initial_state=states)
    for weight in layer.weights:
        weight.assign(rng.normal(scale=0.4, size=weight.shape).astype("float32"))
    return layer, x, states, forward, backward


def _oracle_initial(kind, states):
    states64 = [s.astype("float64") for s in states]
    return states64 if kind == "lstm" else states64[0]


@pytest.mark.parametrize("kind", list(KINDS))
def test_forward_matches_numpy_oracle(kind):
    layer, x, states, forward, _ = _setup(kind)
    outputs, *final_states = layer(x, initial_state=states)
    kernel, recurrent_kernel, bias = (w.numpy().astype("float64") for w in layer.weights)
    expected, expected_final, _ = forward(
        x.astype("float64"), _oracle_initial(kind, states), kernel, recurrent_kernel, bias
    )
    np.testing.assert_allclose(outputs.numpy(), expected, atol=1e-5, rtol=0)
    for got, want in zip(final_states, expected_final):
        np.testing.assert_allclose(got.numpy(), want, atol=1e-5, rtol=0)


@pytest.mark.parametrize("kind", list(KINDS))
def test_gradients_match_numpy_bptt(kind):
    layer, x, states, forward, backward = _setup(kind, seed=1)
    rng = np.random.default_rng(2)
    output_weights = rng.normal(size=(BATCH, TIME, UNITS)).astype("float32")
    state_weights = [rng.normal(size=(BATCH, UNITS)).astype("float32") for _ in states]

    x_tensor = tf.constant(x)
    state_tensors = [tf.constant(s) for s in states]
    with tf.GradientTape() as tape:
        tape.watch([x_tensor, *state_tensors])
        outputs, *finals = layer(x_tensor, initial_state=state_tensors)
        loss = tf.reduce_sum(outputs * output_weights) + sum(
            tf.reduce_sum(f * w) for f, w in zip(finals, state_weights)
        )
    grads = tape.gradient(loss, [x_tensor, *state_tensors, *layer.weights])

    kernel, recurrent_kernel, bias = (w.numpy().astype("float64") for w in layer.weights)
    _, _, cache = forward(
        x.astype("float64"), _oracle_initial(kind, states), kernel, recurrent_kernel, bias
    )
    expected = backward(
        output_weights.astype("float64"), [w.astype("float64") for w in state_weights], cache
    )
    initial = expected["initial_state"]
    initial = initial if isinstance(initial, list) else [initial]
    pairs = [
        ("x", grads[0], expected["x"]),
        *[(f"state{i}", g, e) for i, (g, e) in enumerate(zip(grads[1 : 1 + len(states)], initial))],
        ("kernel", grads[-3], expected["kernel"]),
        ("recurrent_kernel", grads[-2], expected["recurrent_kernel"]),
        ("bias", grads[-1], expected["bias"]),
    ]
    for name, got, want in pairs:
        assert np.abs(want).max() > 1e-3, name
        np.testing.assert_allclose(got.numpy(), want, atol=1e-4, rtol=0, err_msg=name)


@pytest.mark.parametrize("kind", list(KINDS))
def test_cell_step_matches_numpy_cell(kind):
    layer, x, states, _, _ = _setup(kind, seed=3)
    cell = layer.cell
    output, new_states = cell(x[:, 0], states)
    kernel, recurrent_kernel, bias = (w.numpy().astype("float64") for w in cell.weights)
    x0 = x[:, 0].astype("float64")
    s = [st.astype("float64") for st in states]
    if kind == "rnn":
        want, _ = reference.simple_rnn_cell_forward(x0, s[0], kernel, recurrent_kernel, bias)
    elif kind == "lstm":
        want, _, _ = reference.lstm_cell_forward(x0, s[0], s[1], kernel, recurrent_kernel, bias)
    else:
        want, _ = reference.gru_cell_forward(
            x0, s[0], kernel, recurrent_kernel, bias, relevance_gate=cell.relevance_gate
        )
    np.testing.assert_allclose(output.numpy(), want, atol=1e-5, rtol=0)
    assert len(new_states) == len(states)
