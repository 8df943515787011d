"""Gradient checks of the numpy reference RNNs in ``seqapps.reference`` (numpy only)."""

import numpy as np
import pytest

from seqapps import reference as ref

BATCH, TIME, INPUT_DIM, UNITS = 3, 5, 3, 4
LAYERS = ["simple_rnn", "gru", "gru_simplified", "lstm"]
BLOCKS = {"simple_rnn": 1, "gru": 3, "gru_simplified": 2, "lstm": 4}


def make_problem(layer, seed=0, batch=BATCH, time=TIME):
    """Random float64 inputs, initial states and weights of scale ~0.5 for ``layer``."""
    rng = np.random.default_rng(seed)
    blocks = BLOCKS[layer]
    n_states = 2 if layer == "lstm" else 1
    return {
        "x": rng.normal(0, 0.5, (batch, time, INPUT_DIM)),
        "states": [rng.normal(0, 0.5, (batch, UNITS)) for _ in range(n_states)],
        "kernel": rng.normal(0, 0.5, (INPUT_DIM, blocks * UNITS)),
        "recurrent_kernel": rng.normal(0, 0.5, (UNITS, blocks * UNITS)),
        "bias": rng.normal(0, 0.5, (blocks * UNITS,)),
    }


def forward(layer, p):
    """Calls the sequence forward of ``layer`` on problem ``p``."""
    weights = (p["kernel"], p["recurrent_kernel"], p["bias"])
    if layer == "simple_rnn":
        return ref.simple_rnn_forward(p["x"], p["states"][0], *weights)
    if layer == "lstm":
        return ref.lstm_forward(p["x"], p["states"], *weights)
    return ref.gru_forward(p["x"], p["states"][0], *weights, relevance_gate=layer == "gru")


BACKWARD = {
    "simple_rnn": ref.simple_rnn_backward,
    "gru": ref.gru_backward,
    "gru_simplified": ref.gru_backward,
    "lstm": ref.lstm_backward,
}


def rel_error(analytic, numeric):
    analytic, numeric = np.asarray(analytic), np.asarray(numeric)
    scale = max(1e-8, np.abs(analytic).max() + np.abs(numeric).max())
    return np.abs(analytic - numeric).max() / scale


@pytest.mark.parametrize("layer", LAYERS)
def test_gradients_match_central_differences(layer):
    p = make_problem(layer)
    rng = np.random.default_rng(1)
    r_out = rng.normal(size=(BATCH, TIME, UNITS))
    r_states = [rng.normal(size=(BATCH, UNITS)) for _ in p["states"]]

    def loss():
        outputs, final_states, _ = forward(layer, p)
        return np.sum(outputs * r_out) + sum(np.sum(s * r) for s, r in zip(final_states, r_states))

    _, _, cache = forward(layer, p)
    grads = BACKWARD[layer](r_out, r_states, cache)
    d_states = grads["initial_state"] if layer == "lstm" else [grads["initial_state"]]
    assert len(d_states) == len(p["states"])

    checks = [("x", grads["x"], p["x"])]
    checks += [(f"initial_state[{i}]", d, s) for i, (d, s) in enumerate(zip(d_states, p["states"]))]
    checks += [(key, grads[key], p[key]) for key in ref.WEIGHT_KEYS]
    for name, analytic, array in checks:
        assert analytic.shape == array.shape, name
        assert np.abs(analytic).max() > 1e-3, f"{name}: gradient unexpectedly ~0"
        error = rel_error(analytic, ref.numerical_gradient(loss, array))
        assert error < 1e-6, f"{layer} d{name}: relative error {error:.2e}"


@pytest.mark.parametrize("layer", LAYERS)
def test_only_final_state_gradient_and_none_defaults(layer):
    """With d_outputs = 0, only d_final_states drives the gradient; None means zeros."""
    p = make_problem(layer, seed=2)
    outputs, final_states, cache = forward(layer, p)
    zeros = np.zeros_like(outputs)
    grads_none = BACKWARD[layer](zeros, None, cache)
    for key in ("x", *ref.WEIGHT_KEYS):
        assert np.all(grads_none[key] == 0), key
    grads = BACKWARD[layer](zeros, [np.ones_like(s) for s in final_states], cache)
    assert np.abs(grads["x"][:, 0]).max() > 0  # the final state depends on the first input


@pytest.mark.parametrize("layer", LAYERS)
def test_sequence_forward_equals_repeated_cell_steps(layer):
    p = make_problem(layer, seed=3)
    outputs, final_states, _ = forward(layer, p)
    weights = (p["kernel"], p["recurrent_kernel"], p["bias"])
    states = list(p["states"])
    for t in range(TIME):
        if layer == "simple_rnn":
            states[0], _ = ref.simple_rnn_cell_forward(p["x"][:, t], states[0], *weights)
        elif layer == "lstm":
            a, c, _ = ref.lstm_cell_forward(p["x"][:, t], *states, *weights)
            states = [a, c]
        else:
            states[0], _ = ref.gru_cell_forward(
                p["x"][:, t], states[0], *weights, relevance_gate=layer == "gru"
            )
        np.testing.assert_array_equal(outputs[:, t], states[0])
    for final, expected in zip(final_states, states):
        np.testing.assert_array_equal(final, expected)


def test_simple_rnn_step_by_hand():
    """One step against the defining formula, written out independently."""
    p = make_problem("simple_rnn", seed=4)
    a1, _ = ref.simple_rnn_cell_forward(
        p["x"][:, 0], p["states"][0], p["kernel"], p["recurrent_kernel"], p["bias"]
    )
    expected = np.tanh(
        p["x"][:, 0] @ p["kernel"] + p["states"][0] @ p["recurrent_kernel"] + p["bias"]
    )
    np.testing.assert_allclose(a1, expected, rtol=0, atol=1e-15)


def test_simplified_gru_equals_full_gru_with_saturated_relevance_gate():
    p = make_problem("gru_simplified", seed=5)
    u_block, c_block = slice(0, UNITS), slice(UNITS, 2 * UNITS)

    def full(w, r_block):
        """Inserts the relevance-gate block between the u and c blocks."""
        return np.concatenate([w[..., u_block], r_block, w[..., c_block]], axis=-1)

    kernel = full(p["kernel"], np.zeros((INPUT_DIM, UNITS)))
    recurrent_kernel = full(p["recurrent_kernel"], np.zeros((UNITS, UNITS)))
    bias = full(p["bias"], np.full(UNITS, 50.0))  # sigma(50) == 1 in float64
    out_simple, final_simple, cache_simple = ref.gru_forward(
        p["x"], p["states"][0], p["kernel"], p["recurrent_kernel"], p["bias"], relevance_gate=False
    )
    out_full, final_full, cache_full = ref.gru_forward(
        p["x"], p["states"][0], kernel, recurrent_kernel, bias
    )
    np.testing.assert_allclose(out_full, out_simple, rtol=0, atol=1e-12)
    np.testing.assert_allclose(final_full[0], final_simple[0], rtol=0, atol=1e-12)

    d_out = np.random.default_rng(6).normal(size=out_full.shape)
    g_simple = ref.gru_backward(d_out, None, cache_simple)
    g_full = ref.gru_backward(d_out, None, cache_full)
    for key in ("x", "initial_state"):
        np.testing.assert_allclose(g_full[key], g_simple[key], rtol=0, atol=1e-12)
    for key in ref.WEIGHT_KEYS:  # the u and c blocks agree; the saturated r block gets ~0
        np.testing.assert_allclose(
            g_full[key][..., u_block], g_simple[key][..., u_block], atol=1e-12
        )
        np.testing.assert_allclose(
            g_full[key][..., 2 * UNITS :], g_simple[key][..., c_block], atol=1e-12
        )


@pytest.mark.parametrize("layer", LAYERS)
def test_none_initial_state_means_zeros(layer):
    p = make_problem(layer, seed=7)
    outputs, _, _ = forward(layer, p)
    p["states"] = [np.zeros_like(s) for s in p["states"]]
    zero_outputs, _, zero_cache = forward(layer, p)
    assert not np.allclose(outputs, zero_outputs)  # the initial state matters
    weights = (p["kernel"], p["recurrent_kernel"], p["bias"])
    if layer == "simple_rnn":
        none_outputs, _, cache = ref.simple_rnn_forward(p["x"], None, *weights)
    elif layer == "lstm":
        none_outputs, _, cache = ref.lstm_forward(p["x"], None, *weights)
    else:
        none_outputs, _, cache = ref.gru_forward(p["x"], None, *weights, layer == "gru")
    np.testing.assert_array_equal(none_outputs, zero_outputs)
    d_out = np.ones_like(none_outputs)
    got = BACKWARD[layer](d_out, None, cache)["initial_state"]
    want = BACKWARD[layer](d_out, None, zero_cache)["initial_state"]
    assert type(got) is (list if layer == "lstm" else np.ndarray)
    np.testing.assert_array_equal(np.asarray(got), np.asarray(want))


@pytest.mark.parametrize("layer", LAYERS)
@pytest.mark.parametrize("broken", ["x", "state", "kernel", "recurrent_kernel", "bias"])
def test_shape_mismatch_raises(layer, broken):
    p = make_problem(layer, batch=2, time=4)
    if broken == "x":
        p["x"] = p["x"][0]  # 2-D instead of 3-D
    elif broken == "state":
        p["states"][-1] = np.zeros((2, UNITS + 1))
    else:
        p[broken] = p[broken][..., :-1]  # one column too few
    with pytest.raises(ValueError, match="expected"):
        forward(layer, p)


@pytest.mark.parametrize("layer", LAYERS)
def test_backward_rejects_wrong_gradient_shapes(layer):
    p = make_problem(layer, batch=2, time=4)
    outputs, final_states, cache = forward(layer, p)
    with pytest.raises(ValueError, match="expected"):
        BACKWARD[layer](outputs[:, :-1], None, cache)
    with pytest.raises(ValueError, match="expected"):
        BACKWARD[layer](outputs, [np.zeros((2, UNITS + 1))] * len(final_states), cache)


def test_numerical_gradient_of_known_function_restores_array():
    a = np.array([[0.3, -1.2], [2.0, 0.5]])
    before = a.copy()
    grad = ref.numerical_gradient(lambda: np.sum(np.sin(a) * a), a)
    np.testing.assert_allclose(grad, np.cos(before) * before + np.sin(before), atol=1e-9)
    np.testing.assert_array_equal(a, before)
