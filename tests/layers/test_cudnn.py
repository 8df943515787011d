"""The fused cuDNN path of LSTM and GRU(reset_after=True): when it is taken, and that it
computes what the loop computes.

The decision is tested on any machine, with the GPU check and the fused kernels replaced
by stand-ins that record their calls. The numerical comparison of the real kernels with
the loop needs a GPU and is skipped elsewhere.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from seqapps import keras_compat
from seqapps.layers import GRU, LSTM, Bidirectional, SimpleRNN

BATCH, TIME, FEATURES, UNITS = 3, 5, 4, 2
X = np.random.default_rng(0).normal(size=(BATCH, TIME, FEATURES)).astype("float32")
RIGHT_PADDED = np.arange(TIME)[None, :] < np.array([5, 3, 1])[:, None]
LEFT_PADDED = RIGHT_PADDED[:, ::-1].copy()
WITH_EMPTY_ROW = RIGHT_PADDED & np.array([True, True, False])[:, None]
FUSED_VALUE = 7.0


def _fused_kinds():
    return {
        "lstm": (lambda **kw: LSTM(UNITS, **kw), "cudnn_lstm", 2),
        "gru": (lambda **kw: GRU(UNITS, reset_after=True, **kw), "cudnn_gru", 1),
    }


@pytest.fixture
def fake_gpu(monkeypatch):
    """Pretend a GPU is there and replace both fused kernels by recording stand-ins.

    A stand-in returns FUSED_VALUE everywhere (outputs, last output, states), so a
    result shows which path computed it.
    """
    calls = []

    def stand_in(name, state_count):
        def kernel(inputs, *args, **options):
            recorded = np.asarray(inputs) if tf.executing_eagerly() else None
            calls.append({"kernel": name, "inputs": recorded, **options})
            batch, steps = tf.shape(inputs)[0], tf.shape(inputs)[1]
            width = steps if options["return_sequences"] else 1
            last = tf.fill([batch, UNITS], FUSED_VALUE)
            outputs = tf.fill([batch, width, UNITS], FUSED_VALUE)
            return last, outputs, [last] * state_count

        return kernel

    monkeypatch.setattr(keras_compat, "gpu_available", lambda: True)
    monkeypatch.setattr(keras_compat, "cudnn_lstm", stand_in("lstm", 2))
    monkeypatch.setattr(keras_compat, "cudnn_gru", stand_in("gru", 1))
    return calls


def _took_fused(result):
    return bool(np.all(np.asarray(keras.tree.flatten(result)[0]) == FUSED_VALUE))


# ------------------------------------------------------------------ configuration


def test_eligible_configurations_have_no_problems():
    assert LSTM(UNITS).cudnn_configuration_problems() == []
    assert GRU(UNITS, reset_after=True).cudnn_configuration_problems() == []
    assert LSTM(UNITS, dropout=0.3).cudnn_configuration_problems() == []


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda: GRU(UNITS), "reset_after=False"),
        (lambda: LSTM(UNITS, activation="relu"), "activation is 'relu'"),
        (lambda: LSTM(UNITS, recurrent_activation="hard_sigmoid"), "'hard_sigmoid'"),
        (lambda: GRU(UNITS, reset_after=True, recurrent_dropout=0.2), "recurrent_dropout=0.2"),
        (lambda: LSTM(UNITS, unroll=True), "unroll=True"),
        (lambda: GRU(UNITS, reset_after=True, use_bias=False), "use_bias=False"),
    ],
)
def test_ineligible_configurations_name_their_problem(make, problem):
    layer = make()
    assert any(problem in reason for reason in layer.cudnn_configuration_problems())
    # With use_cudnn=True the same configuration is refused when the layer is made.
    config = {**layer.get_config(), "use_cudnn": True}
    with pytest.raises(ValueError, match=f"use_cudnn=True.*{problem}"):
        type(layer).from_config(config)


@pytest.mark.parametrize("value", [1, 0, "yes", None])
def test_use_cudnn_values_are_checked(value):
    with pytest.raises(ValueError, match="use_cudnn"):
        LSTM(UNITS, use_cudnn=value)


def test_simple_rnn_has_no_use_cudnn_as_in_keras():
    assert not hasattr(SimpleRNN(UNITS), "use_cudnn")
    with pytest.raises(ValueError, match="use_cudnn"):
        SimpleRNN(UNITS, use_cudnn=True)


def test_use_cudnn_round_trips_through_config():
    for value in ("auto", True, False):
        layer = GRU(UNITS, reset_after=True, use_cudnn=value)
        assert GRU.from_config(layer.get_config()).use_cudnn is value or value == "auto"
        assert GRU.from_config(layer.get_config()).get_config() == layer.get_config()


@pytest.mark.skipif(keras_compat.gpu_available(), reason="checks the behaviour without a GPU")
def test_without_gpu_auto_loops_and_true_is_refused():
    auto = LSTM(UNITS, return_sequences=True)
    loop = LSTM.from_config({**auto.get_config(), "use_cudnn": False})
    auto(X)
    loop(X)
    loop.set_weights(auto.get_weights())
    np.testing.assert_array_equal(np.asarray(auto(X, mask=LEFT_PADDED)), loop(X, mask=LEFT_PADDED))
    assert not auto.will_use_cudnn()
    with pytest.raises(ValueError, match="use_cudnn=True.*sees no GPU"):
        LSTM(UNITS, use_cudnn=True)(X)


# ------------------------------------------------------------------ dispatch


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_eligible_layer_runs_fused_kernel(fake_gpu, kind):
    make, kernel, _ = _fused_kinds()[kind]
    layer = make()
    assert layer.will_use_cudnn() and layer.supports_jit is False
    assert _took_fused(layer(X))
    assert [call["kernel"] for call in fake_gpu] == [kernel.removeprefix("cudnn_")]


@pytest.mark.parametrize("kind", ["lstm", "gru"])
@pytest.mark.parametrize(
    "options",
    [{"use_cudnn": False}, {"recurrent_dropout": 0.1}, {"unroll": True}, {"activation": "relu"}],
)
def test_loop_when_cudnn_is_off_or_cannot_run(fake_gpu, kind, options):
    make, _, _ = _fused_kinds()[kind]
    layer = make(**options)
    assert not layer.will_use_cudnn()
    assert not _took_fused(layer(X))
    assert fake_gpu == []


def test_course_form_gru_and_simple_rnn_always_loop(fake_gpu):
    for layer in (GRU(UNITS), GRU(UNITS, relevance_gate=False), SimpleRNN(UNITS)):
        assert not _took_fused(layer(X))
    assert fake_gpu == []


@pytest.mark.parametrize(
    ("mask", "fused"),
    [(RIGHT_PADDED, True), (LEFT_PADDED, False), (WITH_EMPTY_ROW, False)],
    ids=["right_padded", "left_padded", "empty_row"],
)
def test_mask_decides_between_kernel_and_loop(fake_gpu, mask, fused):
    layer = LSTM(UNITS)
    assert _took_fused(layer(X, mask=mask)) is fused
    assert len(fake_gpu) == int(fused)


def test_mask_is_checked_at_run_time_inside_a_graph(fake_gpu):
    layer = LSTM(UNITS)
    layer(X)

    @tf.function(
        input_signature=[
            tf.TensorSpec((None, TIME, FEATURES), "float32"),
            tf.TensorSpec((None, TIME), "bool"),
        ]
    )
    def run(inputs, mask):
        return layer(inputs, mask=mask)

    assert _took_fused(run(X, RIGHT_PADDED))
    assert not _took_fused(run(X, LEFT_PADDED))
    assert run.experimental_get_tracing_count() == 1


def test_padded_steps_repeat_the_last_output_like_the_loop(fake_gpu):
    sequences = np.asarray(LSTM(UNITS, return_sequences=True)(X, mask=RIGHT_PADDED))
    assert np.all(sequences == FUSED_VALUE)  # last output carried onto the padded steps
    zeroed = np.asarray(
        LSTM(UNITS, return_sequences=True, zero_output_for_mask=True)(X, mask=RIGHT_PADDED)
    )
    np.testing.assert_array_equal(zeroed[~RIGHT_PADDED], 0.0)
    np.testing.assert_array_equal(zeroed[RIGHT_PADDED], FUSED_VALUE)
    # Backwards, the outputs come in processing order: padding first, as zeros.
    backwards = np.asarray(
        LSTM(UNITS, return_sequences=True, go_backwards=True)(X, mask=RIGHT_PADDED)
    )
    np.testing.assert_array_equal(backwards[~RIGHT_PADDED[:, ::-1]], 0.0)
    np.testing.assert_array_equal(backwards[RIGHT_PADDED[:, ::-1]], FUSED_VALUE)


def test_input_dropout_is_applied_before_the_kernel(fake_gpu):
    layer = LSTM(UNITS, dropout=0.5, seed=3)
    layer(X, training=True)
    dropped = fake_gpu[-1]["inputs"]
    zeros = dropped == 0.0
    assert zeros.any() and not zeros.all()
    # One mask per sequence: the same features are dropped at every step.
    assert np.all(zeros == zeros[:, :1, :])
    layer(X, training=False)
    np.testing.assert_array_equal(fake_gpu[-1]["inputs"], X)


def test_bidirectional_runs_the_kernel_in_both_directions(fake_gpu):
    layer = Bidirectional(GRU(UNITS, reset_after=True, return_sequences=True))
    assert _took_fused(layer(X))
    assert [call["go_backwards"] for call in fake_gpu] == [False, True]


# ------------------------------------------------------------------ on a GPU

needs_gpu = pytest.mark.skipif(
    not keras_compat.gpu_available(),
    reason="needs a GPU: the fused cuDNN kernels run only there",
)


def _pair(make, **options):
    fused = make(use_cudnn=True, **options)
    loop = make(use_cudnn=False, **options)
    fused(X)
    loop(X)
    rng = np.random.default_rng(1)
    weights = [0.5 * rng.normal(size=w.shape).astype("float32") for w in fused.get_weights()]
    fused.set_weights(weights)
    loop.set_weights(weights)
    return fused, loop


def _forward_and_gradients(layer, mask):
    with tf.GradientTape() as tape:
        inputs = tf.constant(X)
        tape.watch(inputs)
        outputs = keras.tree.flatten(layer(inputs, mask=mask))
        loss = sum(tf.reduce_sum(tf.sin(output)) for output in outputs)
    gradients = tape.gradient(loss, [inputs, *layer.trainable_weights])
    return [np.asarray(o) for o in outputs], [np.asarray(g) for g in gradients]


@needs_gpu
@pytest.mark.parametrize("kind", ["lstm", "gru"])
@pytest.mark.parametrize("mask", [None, RIGHT_PADDED], ids=["unmasked", "right_padded"])
@pytest.mark.parametrize(
    "options",
    [
        {"return_sequences": True},
        {"return_state": True},
        {"return_sequences": True, "go_backwards": True},
    ],
    ids=["sequences", "state", "backwards"],
)
def test_fused_kernel_equals_loop_on_gpu(kind, mask, options):
    make, _, _ = _fused_kinds()[kind]
    fused, loop = _pair(make, **options)
    fused_outputs, fused_gradients = _forward_and_gradients(fused, mask)
    loop_outputs, loop_gradients = _forward_and_gradients(loop, mask)
    for got, want in zip(fused_outputs, loop_outputs):
        np.testing.assert_allclose(got, want, atol=1e-5)
    for got, want in zip(fused_gradients, loop_gradients):
        np.testing.assert_allclose(got, want, atol=1e-4)


@needs_gpu
@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_bidirectional_fused_equals_loop_on_gpu(kind):
    make, _, _ = _fused_kinds()[kind]

    def pair_wrapper(use_cudnn):
        return Bidirectional(make(use_cudnn=use_cudnn, return_sequences=True))

    fused, loop = pair_wrapper(True), pair_wrapper(False)
    fused(X)
    loop(X)
    loop.set_weights(fused.get_weights())
    for mask in (None, RIGHT_PADDED):
        fused_outputs, fused_gradients = _forward_and_gradients(fused, mask)
        loop_outputs, loop_gradients = _forward_and_gradients(loop, mask)
        np.testing.assert_allclose(fused_outputs[0], loop_outputs[0], atol=1e-5)
        for got, want in zip(fused_gradients, loop_gradients):
            np.testing.assert_allclose(got, want, atol=1e-4)
