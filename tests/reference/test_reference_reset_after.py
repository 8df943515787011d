"""The reset-after GRU of ``seqapps.reference`` (Keras's default GRU form).

Checked three ways: its BPTT against central differences (numpy, float64); its forward and
gradients against ``seqapps.layers.GRU(reset_after=True)``; and its forward against the
stock ``keras.layers.GRU``, whose default form it is (both TensorFlow, float32).
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from seqapps import reference as ref
from seqapps.layers import GRU

BATCH, TIME, INPUT_DIM, UNITS = 3, 5, 3, 4


def make_problem(seed=0, use_bias=True, batch=BATCH, time=TIME):
    """Random float64 inputs, initial state and Keras-layout weights of scale ~0.5."""
    rng = np.random.default_rng(seed)
    return {
        "x": rng.normal(0, 0.5, (batch, time, INPUT_DIM)),
        "state": rng.normal(0, 0.5, (batch, UNITS)),
        "kernel": rng.normal(0, 0.5, (INPUT_DIM, 3 * UNITS)),
        "recurrent_kernel": rng.normal(0, 0.5, (UNITS, 3 * UNITS)),
        "bias": rng.normal(0, 0.5, (2, 3 * UNITS)) if use_bias else None,
    }


def weights_of(p):
    return p["kernel"], p["recurrent_kernel"], p["bias"]


def forward(p):
    return ref.gru_forward(p["x"], p["state"], *weights_of(p), reset_after=True)


def rel_error(analytic, numeric):
    analytic, numeric = np.asarray(analytic), np.asarray(numeric)
    scale = max(1e-8, np.abs(analytic).max() + np.abs(numeric).max())
    return np.abs(analytic - numeric).max() / scale


# ------------------------------------------------------------------------ numpy only


@pytest.mark.parametrize("use_bias", [True, False])
def test_gradients_match_central_differences(use_bias):
    p = make_problem(use_bias=use_bias)
    rng = np.random.default_rng(1)
    r_out = rng.normal(size=(BATCH, TIME, UNITS))
    r_final = rng.normal(size=(BATCH, UNITS))

    def loss():
        outputs, final_states, _ = forward(p)
        return np.sum(outputs * r_out) + np.sum(final_states[0] * r_final)

    _, _, cache = forward(p)
    grads = ref.gru_backward(r_out, [r_final], cache)
    checks = [("x", grads["x"], p["x"]), ("initial_state", grads["initial_state"], p["state"])]
    checks += [(key, grads[key], p[key]) for key in ref.WEIGHT_KEYS if p[key] is not None]
    assert len(checks) == (5 if use_bias else 4)
    if not use_bias:
        assert grads["bias"] is None
    for name, analytic, array in checks:
        assert analytic.shape == array.shape, name
        assert np.abs(analytic).max() > 1e-3, f"{name}: gradient unexpectedly ~0"
        error = rel_error(analytic, ref.numerical_gradient(loss, array))
        assert error < 1e-6, f"reset-after GRU d{name}: relative error {error:.2e}"


def test_step_by_hand():
    """One step against the defining equations, written out independently."""
    p = make_problem(seed=4)
    x, h, (kernel, recurrent_kernel, bias) = p["x"][:, 0], p["state"], weights_of(p)
    h1, _ = ref.gru_cell_forward(x, h, kernel, recurrent_kernel, bias, reset_after=True)

    def block(w, k):
        return w[..., k * UNITS : (k + 1) * UNITS]

    def sig(v):
        return 1.0 / (1.0 + np.exp(-v))

    def gate(k):
        x_k = x @ block(kernel, k) + block(bias[0], k)
        return x_k + h @ block(recurrent_kernel, k) + block(bias[1], k)

    z, r = sig(gate(0)), sig(gate(1))
    q = h @ block(recurrent_kernel, 2) + block(bias[1], 2)
    candidate = np.tanh(x @ block(kernel, 2) + block(bias[0], 2) + r * q)
    np.testing.assert_allclose(h1, z * h + (1 - z) * candidate, rtol=0, atol=1e-13)


def test_only_the_candidate_bias_rows_differ():
    """Moving z and r bias between the rows changes nothing; moving the h~ bias does."""
    p = make_problem(seed=5)
    outputs, _, _ = forward(p)
    bias = p["bias"]
    gates = slice(0, 2 * UNITS)
    moved = bias.copy()
    moved[0, gates], moved[1, gates] = bias[0, gates] + bias[1, gates], 0.0
    p["bias"] = moved
    np.testing.assert_allclose(forward(p)[0], outputs, rtol=0, atol=1e-13)
    moved = bias.copy()
    moved[0], moved[1] = bias[0] + bias[1], 0.0
    p["bias"] = moved
    assert np.abs(forward(p)[0] - outputs).max() > 1e-3  # r scales only the recurrent row


def test_sequence_forward_equals_repeated_cell_steps():
    p = make_problem(seed=3)
    outputs, final_states, _ = forward(p)
    state = p["state"]
    for t in range(TIME):
        state, _ = ref.gru_cell_forward(p["x"][:, t], state, *weights_of(p), reset_after=True)
        np.testing.assert_array_equal(outputs[:, t], state)
    np.testing.assert_array_equal(final_states[0], state)


def test_no_bias_equals_zero_bias():
    p = make_problem(seed=6, use_bias=False)
    out_none, final_none, cache_none = forward(p)
    p["bias"] = np.zeros((2, 3 * UNITS))
    out_zero, final_zero, cache_zero = forward(p)
    np.testing.assert_array_equal(out_none, out_zero)
    np.testing.assert_array_equal(final_none[0], final_zero[0])
    d_out = np.random.default_rng(7).normal(size=out_none.shape)
    g_none = ref.gru_backward(d_out, None, cache_none)
    g_zero = ref.gru_backward(d_out, None, cache_zero)
    assert g_none["bias"] is None and g_zero["bias"].shape == (2, 3 * UNITS)
    for key in ("x", "initial_state", "kernel", "recurrent_kernel"):
        np.testing.assert_array_equal(g_none[key], g_zero[key])


def test_saturated_reset_gate_equals_simplified_course_gru():
    """With r == 1 the two forms coincide once z = 1 - Gu and the bias rows are summed."""
    p = make_problem(seed=8)
    z_block, r_block, h_block = (slice(k * UNITS, (k + 1) * UNITS) for k in range(3))
    p["kernel"][:, r_block] = 0.0
    p["recurrent_kernel"][:, r_block] = 0.0
    p["bias"][:, r_block] = 25.0  # sigma(50) == 1 in float64

    def course(w):
        """The course-form [u, c] blocks: sigma(-v) = 1 - sigma(v) turns z into Gu."""
        return np.concatenate([-w[..., z_block], w[..., h_block]], axis=-1)

    bias = p["bias"].sum(axis=0)
    course_weights = (course(p["kernel"]), course(p["recurrent_kernel"]), course(bias))
    out_keras, final_keras, cache_keras = forward(p)
    out_course, final_course, cache_course = ref.gru_forward(
        p["x"], p["state"], *course_weights, relevance_gate=False
    )
    np.testing.assert_allclose(out_keras, out_course, rtol=0, atol=1e-12)
    np.testing.assert_allclose(final_keras[0], final_course[0], rtol=0, atol=1e-12)

    d_out = np.random.default_rng(9).normal(size=out_keras.shape)
    g_keras = ref.gru_backward(d_out, None, cache_keras)
    g_course = ref.gru_backward(d_out, None, cache_course)
    for key in ("x", "initial_state"):
        np.testing.assert_allclose(g_keras[key], g_course[key], rtol=0, atol=1e-12)
    np.testing.assert_allclose(
        course(g_keras["kernel"]), g_course["kernel"], atol=1e-12, err_msg="kernel"
    )
    np.testing.assert_allclose(
        course(g_keras["recurrent_kernel"]), g_course["recurrent_kernel"], atol=1e-12
    )
    for row in (0, 1):  # each bias row gets the course bias gradient (sign-flipped for z)
        np.testing.assert_allclose(course(g_keras["bias"][row]), g_course["bias"], atol=1e-12)
    assert np.abs(g_keras["bias"][:, r_block]).max() < 1e-12  # the saturated gate


def test_only_final_state_gradient_and_none_defaults():
    p = make_problem(seed=2)
    outputs, final_states, cache = forward(p)
    zeros = np.zeros_like(outputs)
    grads_none = ref.gru_backward(zeros, None, cache)
    for key in ("x", *ref.WEIGHT_KEYS):
        assert np.all(grads_none[key] == 0), key
    grads = ref.gru_backward(zeros, [np.ones_like(final_states[0])], cache)
    assert np.abs(grads["x"][:, 0]).max() > 0  # the final state depends on the first input


def test_none_initial_state_means_zeros():
    p = make_problem(seed=7)
    outputs, _, _ = forward(p)
    p["state"] = np.zeros_like(p["state"])
    zero_outputs, _, zero_cache = forward(p)
    assert not np.allclose(outputs, zero_outputs)  # the initial state matters
    none_outputs, _, cache = ref.gru_forward(p["x"], None, *weights_of(p), reset_after=True)
    np.testing.assert_array_equal(none_outputs, zero_outputs)
    d_out = np.ones_like(none_outputs)
    got = ref.gru_backward(d_out, None, cache)["initial_state"]
    np.testing.assert_array_equal(got, ref.gru_backward(d_out, None, zero_cache)["initial_state"])


@pytest.mark.parametrize(
    "broken", ["x", "state", "kernel", "recurrent_kernel", "bias_columns", "bias_1d"]
)
def test_shape_mismatch_raises(broken):
    p = make_problem(batch=2, time=4)
    if broken == "x":
        p["x"] = p["x"][0]  # 2-D instead of 3-D
    elif broken == "state":
        p["state"] = np.zeros((2, UNITS + 1))
    elif broken == "bias_columns":
        p["bias"] = p["bias"][:, :-1]
    elif broken == "bias_1d":
        p["bias"] = p["bias"][0]  # a course-form bias
    else:
        p[broken] = p[broken][..., :-1]  # one column too few
    with pytest.raises(ValueError, match="expected"):
        forward(p)
    x_t = p["x"][:, 0] if p["x"].ndim == 3 else p["x"]
    with pytest.raises(ValueError, match="expected"):
        ref.gru_cell_forward(x_t, p["state"], *weights_of(p), reset_after=True)


def test_backward_rejects_wrong_gradient_shapes():
    p = make_problem(batch=2, time=4)
    outputs, _, cache = forward(p)
    with pytest.raises(ValueError, match="expected"):
        ref.gru_backward(outputs[:, :-1], None, cache)
    with pytest.raises(ValueError, match="expected"):
        ref.gru_backward(outputs, [np.zeros((2, UNITS + 1))], cache)


def test_reset_after_requires_the_reset_gate():
    p = make_problem()
    with pytest.raises(ValueError, match="relevance_gate=False"):
        ref.gru_forward(p["x"], None, *weights_of(p), relevance_gate=False, reset_after=True)
    with pytest.raises(ValueError, match="relevance_gate=False"):
        ref.gru_cell_forward(
            p["x"][:, 0], p["state"], *weights_of(p), relevance_gate=False, reset_after=True
        )


# ------------------------------------------------------------ against the TF layers

TF_BATCH, TF_TIME, FEATURES, TF_UNITS = 4, 6, 4, 5
MASK = np.array(
    [
        [1, 1, 1, 1, 1, 1],  # full length
        [1, 1, 1, 0, 0, 0],  # right-padded
        [0, 0, 1, 1, 1, 1],  # left-padded: outputs are zeros before the first real step
        [1, 0, 1, 1, 0, 1],  # holes
    ],
    bool,
)
CASES = {
    "plain": {},
    "no_bias": {"use_bias": False},
    "masked": {"mask": MASK},
    "go_backwards": {"go_backwards": True},
    "masked_go_backwards": {"mask": MASK, "go_backwards": True},
}


def _tf_problem(seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(TF_BATCH, TF_TIME, FEATURES)).astype("float32")
    state = rng.normal(scale=0.5, size=(TF_BATCH, TF_UNITS)).astype("float32")
    return rng, x, state


def _build(layer, x, rng):
    """Builds ``layer`` and gives it random weights; returns them in float64."""
    layer(x)
    for weight in layer.weights:
        weight.assign(rng.normal(scale=0.4, size=weight.shape).astype("float32"))
    kernel, recurrent_kernel = layer.cell.kernel, layer.cell.recurrent_kernel
    bias = layer.cell.bias if layer.cell.use_bias else None
    weights = (kernel, recurrent_kernel, bias)
    return tuple(None if w is None else w.numpy().astype("float64") for w in weights)


def _oracle_layer(x, state, weights, d_out, d_final, mask=None, go_backwards=False):
    """The layer's function from the oracle, with Keras's mask and go_backwards conventions.

    ``go_backwards`` runs over the reversed time axis and returns outputs in that processing
    order. A masked step keeps the state and repeats the previous output (zeros before the
    first real step), so each example is the oracle over its real steps alone, its outputs
    spread over the padding. Returns ``(outputs, final_state, grads)`` for the loss
    ``sum(outputs * d_out) + sum(final_state * d_final)``.
    """
    x, state, d_out, d_final = (np.asarray(a, "float64") for a in (x, state, d_out, d_final))
    if go_backwards:
        x = x[:, ::-1]
        mask = None if mask is None else mask[:, ::-1]
    if mask is None:
        outputs, (final,), cache = ref.gru_forward(x, state, *weights, reset_after=True)
        grads = ref.gru_backward(d_out, [d_final], cache)
    else:
        outputs, final = np.zeros(d_out.shape), np.zeros(d_final.shape)
        grads = {"x": np.zeros(x.shape), "initial_state": np.zeros(state.shape)}
        for key, w in zip(ref.WEIGHT_KEYS, weights):
            grads[key] = None if w is None else np.zeros(w.shape)
        for i in range(len(x)):
            steps = np.flatnonzero(mask[i])
            out_i, (final_i,), cache = ref.gru_forward(
                x[i : i + 1, steps], state[i : i + 1], *weights, reset_after=True
            )
            # The real step whose output step t shows; -1 before the first real step.
            shown = np.searchsorted(steps, np.arange(x.shape[1]), side="right") - 1
            outputs[i, shown >= 0] = out_i[0, shown[shown >= 0]]
            final[i] = final_i[0]
            d_real = np.zeros_like(out_i)
            np.add.at(d_real[0], shown[shown >= 0], d_out[i, shown >= 0])
            grads_i = ref.gru_backward(d_real, [d_final[i : i + 1]], cache)
            grads["x"][i, steps] = grads_i["x"][0]
            grads["initial_state"][i] = grads_i["initial_state"][0]
            for key in ref.WEIGHT_KEYS:
                if grads[key] is not None:
                    grads[key] += grads_i[key]
    if go_backwards:
        grads["x"] = grads["x"][:, ::-1]
    return outputs, final, grads


@pytest.mark.parametrize("case", list(CASES))
def test_layer_forward_and_gradients_match_numpy_oracle(case):
    options = dict(CASES[case])
    mask = options.pop("mask", None)
    rng, x, state = _tf_problem(seed=list(CASES).index(case))
    layer = GRU(TF_UNITS, reset_after=True, return_sequences=True, return_state=True, **options)
    weights = _build(layer, x, rng)
    d_out = rng.normal(size=(TF_BATCH, TF_TIME, TF_UNITS)).astype("float32")
    d_final = rng.normal(size=(TF_BATCH, TF_UNITS)).astype("float32")

    x_tensor, state_tensor = tf.constant(x), tf.constant(state)
    variables = [layer.cell.kernel, layer.cell.recurrent_kernel]
    variables += [layer.cell.bias] if layer.cell.use_bias else []
    with tf.GradientTape() as tape:
        tape.watch([x_tensor, state_tensor])
        outputs, final = layer(x_tensor, initial_state=[state_tensor], mask=mask)
        loss = tf.reduce_sum(outputs * d_out) + tf.reduce_sum(final * d_final)
    got = tape.gradient(loss, [x_tensor, state_tensor, *variables])

    go_backwards = options.get("go_backwards", False)
    want_outputs, want_final, want = _oracle_layer(
        x, state, weights, d_out, d_final, mask=mask, go_backwards=go_backwards
    )
    np.testing.assert_allclose(outputs.numpy(), want_outputs, atol=1e-5, rtol=0)
    np.testing.assert_allclose(final.numpy(), want_final, atol=1e-5, rtol=0)
    if mask is not None:  # the mask changed the result, so this case can tell
        unmasked, _, _ = _oracle_layer(x, state, weights, d_out, d_final, go_backwards=go_backwards)
        assert np.abs(unmasked - want_outputs).max() > 1e-2
    names = ["x", "initial_state", "kernel", "recurrent_kernel", "bias"][: len(got)]
    assert len(names) == (4 if case == "no_bias" else 5)
    for name, g in zip(names, got):
        assert np.abs(want[name]).max() > 1e-3, name
        np.testing.assert_allclose(g.numpy(), want[name], atol=1e-4, rtol=0, err_msg=name)
    if mask is not None:  # dx comes in input order (go_backwards or not): padding gets none
        np.testing.assert_array_equal(got[0].numpy()[~MASK], 0.0)


def test_layer_cell_step_matches_numpy_cell():
    rng, x, state = _tf_problem(seed=10)
    layer = GRU(TF_UNITS, reset_after=True)
    weights = _build(layer, x, rng)
    output, _ = layer.cell(x[:, 0], [state])
    want, _ = ref.gru_cell_forward(
        x[:, 0].astype("float64"), state.astype("float64"), *weights, reset_after=True
    )
    np.testing.assert_allclose(output.numpy(), want, atol=1e-5, rtol=0)


@pytest.mark.parametrize("case", ["plain", "no_bias", "masked"])
def test_stock_keras_gru_matches_numpy_oracle(case):
    options = dict(CASES[case])
    mask = options.pop("mask", None)
    rng, x, state = _tf_problem(seed=20 + list(CASES).index(case))
    stock = keras.layers.GRU(TF_UNITS, return_sequences=True, return_state=True, **options)
    assert stock.cell.reset_after is True  # Keras's default form is the one checked here
    weights = _build(stock, x, rng)
    assert weights[2] is None or weights[2].shape == (2, 3 * TF_UNITS)
    outputs, final = stock(x, initial_state=[state], mask=mask)
    zeros = np.zeros((TF_BATCH, TF_TIME, TF_UNITS)), np.zeros((TF_BATCH, TF_UNITS))
    want_outputs, want_final, _ = _oracle_layer(x, state, weights, *zeros, mask=mask)
    np.testing.assert_allclose(outputs.numpy(), want_outputs, atol=1e-5, rtol=0)
    np.testing.assert_allclose(final.numpy(), want_final, atol=1e-5, rtol=0)
