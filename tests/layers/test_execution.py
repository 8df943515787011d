"""Eager, tf.function, XLA, mixed precision, distribution strategies and training."""

import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

from seqapps.layers import GRU, LSTM, Bidirectional, SimpleRNN

X = np.random.default_rng(0).normal(size=(4, 6, 3)).astype("float32")
MASK = np.array([[1] * 6, [1] * 4 + [0] * 2, [1] * 2 + [0] * 4, [1] * 6], bool)


def _layers():
    return {
        "rnn": SimpleRNN(5, return_sequences=True),
        "gru": GRU(5, return_sequences=True),
        "gru_reset_after": GRU(5, reset_after=True, return_sequences=True),
        "lstm": LSTM(5, return_sequences=True),
        "bilstm": Bidirectional(LSTM(5, return_sequences=True)),
    }


@pytest.mark.parametrize("kind", ["rnn", "gru", "gru_reset_after", "lstm", "bilstm"])
@pytest.mark.parametrize("jit_compile", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_tf_function_and_xla_match_eager(kind, jit_compile):
    layer = _layers()[kind]
    eager = layer(X, mask=MASK).numpy()
    compiled = tf.function(lambda x, m: layer(x, mask=m), jit_compile=jit_compile)
    np.testing.assert_allclose(compiled(X, MASK), eager, atol=1e-5)

    @tf.function(jit_compile=jit_compile)
    def gradient(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(layer(x) ** 2)
        return tape.gradient(loss, [x, *layer.trainable_variables])

    with tf.GradientTape() as tape:
        x = tf.constant(X)
        tape.watch(x)
        loss = tf.reduce_sum(layer(x) ** 2)
    eager_grads = tape.gradient(loss, [x, *layer.trainable_variables])
    for got, want in zip(gradient(tf.constant(X)), eager_grads):
        np.testing.assert_allclose(got, want, atol=1e-4)


@pytest.mark.slow
@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
@pytest.mark.parametrize("kind", ["gru", "gru_reset_after", "lstm", "bilstm"])
def test_mixed_precision(policy, kind):
    reference = _layers()[kind]
    expected = reference(X).numpy()
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        layer = _layers()[kind]
        layer(X)
        layer.set_weights(reference.get_weights())
        output = layer(X, mask=MASK)
        compute = "float16" if policy == "mixed_float16" else "bfloat16"
        assert output.dtype == compute
        assert all(w.dtype == "float32" for w in layer.weights)
        tolerance = 5e-3 if compute == "float16" else 5e-2
        np.testing.assert_allclose(layer(X).numpy().astype("float32"), expected, atol=tolerance)
        model = keras.Sequential(
            [keras.Input((6, 3)), layer, keras.layers.Dense(1, dtype="float32")]
        )
        model.compile(keras.optimizers.Adam(1e-2), "mse")
        history = model.fit(X, np.ones((4, 6, 1)), epochs=3, verbose=0)
        assert np.isfinite(history.history["loss"]).all()
    finally:
        keras.config.set_dtype_policy(previous)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("clip", "jit_compile"),
    [({"clipnorm": 1.0}, False), ({"clipvalue": 0.01}, True), ({"global_clipnorm": 0.5}, False)],
)
def test_training_reduces_loss_with_clipping(clip, jit_compile):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(32, 8, 3)).astype("float32")
    y = x.sum(axis=(1, 2))[:, None] / 5
    model = keras.Sequential(
        [
            keras.Input((8, 3)),
            Bidirectional(GRU(8, return_sequences=True)),
            LSTM(8),
            keras.layers.Dense(1),
        ]
    )
    model.compile(keras.optimizers.Adam(0.02, **clip), "mse", jit_compile=jit_compile)
    before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=15, batch_size=16, verbose=0)
    assert model.evaluate(x, y, verbose=0) < 0.7 * before


@pytest.mark.slow
def test_mirrored_strategy_two_logical_cpus(run_python):
    script = textwrap.dedent(
        """
        import numpy as np, tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        import keras, seqapps
        from seqapps.layers import GRU, LSTM, Bidirectional, SimpleRNN
        strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        assert strategy.num_replicas_in_sync == 2
        rng = np.random.default_rng(0)
        x = rng.normal(size=(64, 7, 3)).astype("float32")
        y = x.mean(axis=(1, 2))[:, None]
        def build():
            keras.utils.set_random_seed(3)
            model = keras.Sequential([keras.Input((7, 3)),
                Bidirectional(LSTM(6, return_sequences=True)),
                Bidirectional(GRU(6, reset_after=True, return_sequences=True)), GRU(6),
                keras.layers.Dense(1)])
            model.compile(keras.optimizers.SGD(0.1), "mse")
            return model
        with strategy.scope():
            distributed = build()
        single = build()
        single.set_weights(distributed.get_weights())
        for model in (distributed, single):
            model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
        gap = max(np.abs(a - b).max() for a, b in
                  zip(distributed.get_weights(), single.get_weights()))
        moved = max(np.abs(a - b).max() for a, b in
                    zip(distributed.get_weights(), build().get_weights()))
        print("GAP", gap, "MOVED", moved)
        """
    )
    result = run_python(["-c", script], timeout=240)
    values = result.stdout.split()
    gap, moved = float(values[values.index("GAP") + 1]), float(values[values.index("MOVED") + 1])
    assert gap < 1e-4, f"two replicas trained differently from one device: {gap}"
    assert moved > 1e-3, f"training did not change the weights: {moved}"
