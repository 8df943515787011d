"""Conversion between the seqapps recurrent layers and the stock Keras ones (`seqapps.interop`)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from seqapps.interop import convert_model, from_keras, to_keras
from seqapps.layers import GRU, LSTM, Bidirectional, SimpleRNN

BATCH, TIME, FEATURES, UNITS = 3, 5, 4, 3
LENGTHS = (5, 3, 1)  # post-padded: example i has LENGTHS[i] real steps
TOL = 1e-5

# kind -> (seqapps class, Keras class, Keras arguments, seqapps arguments) that give one
# function. "GRU" is the course form (reset before the matmul, update gate negated);
# "KerasGRU" is Keras's default GRU, reset_after=True on both sides.
KINDS = {
    "SimpleRNN": (SimpleRNN, keras.layers.SimpleRNN, {}, {}),
    "GRU": (GRU, keras.layers.GRU, {"reset_after": False}, {}),
    "KerasGRU": (GRU, keras.layers.GRU, {}, {"reset_after": True}),
    "LSTM": (LSTM, keras.layers.LSTM, {}, {}),
}
STATE_COUNT = {"SimpleRNN": 1, "GRU": 1, "KerasGRU": 1, "LSTM": 2}

# name -> (layer arguments, call options)
CONFIGS = {
    "last": ({}, {}),
    "sequences": ({"return_sequences": True}, {}),
    "state": ({"return_state": True}, {}),
    "backwards": ({"return_sequences": True, "go_backwards": True}, {}),
    "mask": ({"return_sequences": True}, {"mask": True}),
    "mask_last_backwards": ({"go_backwards": True, "return_state": True}, {"mask": True}),
    "mask_zero_output": ({"return_sequences": True, "zero_output_for_mask": True}, {"mask": True}),
    "initial_state": ({"return_sequences": True, "return_state": True}, {"initial_state": True}),
    "initial_state_mask": ({"return_state": True}, {"initial_state": True, "mask": True}),
    "no_bias_relu": ({"use_bias": False, "activation": "relu", "return_sequences": True}, {}),
    "hard_sigmoid_gates": ({"recurrent_activation": "hard_sigmoid"}, {"mask": True}),
    "unroll": ({"unroll": True, "return_sequences": True}, {"mask": True}),
}
# `pytest -m "not slow"` runs two configurations that combine masks, direction, initial and
# returned states; the rest of the matrix is marked slow (plain `pytest` runs all of it).
FAST_CONFIGS = {"mask_last_backwards", "initial_state_mask"}
CONFIG_PARAMS = [
    pytest.param(name, marks=() if name in FAST_CONFIGS else pytest.mark.slow)
    for name in sorted(CONFIGS)
]


def _layer_kwargs(kind, config):
    kwargs = dict(CONFIGS[config][0])
    if kind == "SimpleRNN":
        kwargs.pop("recurrent_activation", None)
    return kwargs


def _data(kind, seed=0, dtype="float32"):
    rng = np.random.default_rng(seed)
    inputs = rng.normal(size=(BATCH, TIME, FEATURES)).astype(dtype)
    mask = np.arange(TIME)[None, :] < np.array(LENGTHS)[:, None]
    states = [rng.normal(size=(BATCH, UNITS)).astype(dtype) for _ in range(STATE_COUNT[kind])]
    return inputs, mask, states


def _call(layer, inputs, mask=None, initial_state=None):
    kwargs = {}
    if mask is not None:
        kwargs["mask"] = mask
    if initial_state is not None:
        kwargs["initial_state"] = initial_state
    return [np.asarray(t) for t in keras.tree.flatten(layer(inputs, **kwargs))]


def _call_config(layer, kind, config, seed=0):
    inputs, mask, states = _data(kind, seed)
    options = CONFIGS[config][1]
    initial_state = states if options.get("initial_state") else None
    return _call(layer, inputs, mask if options.get("mask") else None, initial_state)


def _cells(layer):
    if isinstance(layer, keras.layers.Bidirectional):
        return [layer.forward_layer.cell, layer.backward_layer.cell]
    return [layer.cell]


def _randomize(layer, seed=1):
    """Random weights, biases included (all non-zero so a gate sign bug shows)."""
    rng = np.random.default_rng(seed)
    for cell in _cells(layer):
        for weight in cell.weights:
            weight.assign(0.7 * rng.normal(size=weight.shape) + 0.1)


def _weights(layer):
    return [np.asarray(w) for cell in _cells(layer) for w in cell.weights]


def _assert_close(expected, received):
    assert len(expected) == len(received)
    for want, got in zip(expected, received):
        assert want.shape == got.shape
        np.testing.assert_allclose(got, want, rtol=0, atol=TOL)


def _assert_same_weights(expected, received):
    assert len(expected) == len(received)
    for want, got in zip(expected, received):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("config", CONFIG_PARAMS)
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_round_trip_from_ours(kind, config):
    ours_class, keras_class, _, ours_kwargs = KINDS[kind]
    ours = ours_class(UNITS, **ours_kwargs, **_layer_kwargs(kind, config))
    _call_config(ours, kind, config)  # builds
    _randomize(ours)
    expected = _call_config(ours, kind, config)

    theirs = to_keras(ours)
    assert type(theirs) is keras_class and theirs.built
    _assert_close(expected, _call_config(theirs, kind, config))

    back = from_keras(theirs)
    assert type(back) is ours_class and back.built
    _assert_same_weights(_weights(ours), _weights(back))
    _assert_close(expected, _call_config(back, kind, config))
    assert back.get_config() == ours.get_config()


@pytest.mark.parametrize("config", CONFIG_PARAMS)
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_from_keras_random_weights(kind, config):
    ours_class, keras_class, keras_kwargs, ours_kwargs = KINDS[kind]
    theirs = keras_class(UNITS, **keras_kwargs, **_layer_kwargs(kind, config))
    _call_config(theirs, kind, config)
    _randomize(theirs, seed=2)
    expected = _call_config(theirs, kind, config, seed=3)

    ours = from_keras(theirs)
    assert type(ours) is ours_class
    _assert_close(expected, _call_config(ours, kind, config, seed=3))

    back = to_keras(ours)
    _assert_same_weights(_weights(theirs), _weights(back))
    _assert_close(expected, _call_config(back, kind, config, seed=3))


def test_gru_update_gate_is_negated():
    theirs = keras.layers.GRU(UNITS, reset_after=False)
    theirs.build((None, None, FEATURES))
    _randomize(theirs)
    ours = from_keras(theirs)
    for want, got in zip(_weights(theirs), _weights(ours)):
        np.testing.assert_array_equal(got[..., :UNITS], -want[..., :UNITS])
        np.testing.assert_array_equal(got[..., UNITS:], want[..., UNITS:])


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_stateful_states_are_carried(kind):
    ours_class, keras_class, _, ours_kwargs = KINDS[kind]
    ours = ours_class(UNITS, **ours_kwargs, stateful=True, return_sequences=True)
    inputs, mask, _ = _data(kind)
    _call(ours, inputs)  # builds for batch BATCH and moves the states off zero
    _randomize(ours)
    _call(ours, inputs, mask)

    theirs = to_keras(ours)
    assert theirs.stateful
    _assert_close(_call(ours, inputs, mask), _call(theirs, inputs, mask))
    back = from_keras(theirs)
    _assert_close(_call(theirs, inputs), _call(back, inputs))
    _assert_close([np.asarray(s) for s in theirs.states], [np.asarray(s) for s in back.states])
    theirs.reset_states()
    back.reset_states()
    _assert_close(_call(theirs, inputs), _call(back, inputs))


def _rich_kwargs(kind):
    kwargs = {
        "activation": "softsign",
        "use_bias": True,
        "kernel_initializer": keras.initializers.HeNormal(seed=1),
        "recurrent_initializer": "glorot_normal",
        "bias_initializer": keras.initializers.RandomUniform(-0.2, 0.2, seed=2),
        "kernel_regularizer": keras.regularizers.L2(0.01),
        "recurrent_regularizer": keras.regularizers.L1(0.02),
        "bias_regularizer": keras.regularizers.L1L2(0.01, 0.03),
        "kernel_constraint": keras.constraints.MaxNorm(3.0),
        "recurrent_constraint": keras.constraints.UnitNorm(),
        "bias_constraint": keras.constraints.MinMaxNorm(0.0, 2.0),
        "activity_regularizer": keras.regularizers.L2(0.05),
        "dropout": 0.1,
        "recurrent_dropout": 0.2,
        "seed": 7,
        "return_sequences": True,
        "return_state": True,
        "go_backwards": True,
        "unroll": True,
        "zero_output_for_mask": True,
        "name": f"rich_{kind.lower()}",
        "dtype": "float64",
        "trainable": False,
    }
    if kind != "SimpleRNN":
        kwargs["recurrent_activation"] = "hard_sigmoid"
    if kind == "LSTM":
        kwargs["unit_forget_bias"] = False
    return kwargs


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_config_is_carried(kind):
    ours_class, keras_class, _, ours_kwargs = KINDS[kind]
    ours = ours_class(UNITS, **ours_kwargs, **_rich_kwargs(kind))
    inputs, mask, _ = _data(kind, dtype="float64")
    _call(ours, inputs)
    _randomize(ours)

    theirs = to_keras(ours)
    ours_config, keras_config = ours.get_config(), theirs.get_config()
    common = sorted(set(ours_config) & set(keras_config))
    assert {"name", "dtype", "kernel_constraint", "dropout", "go_backwards"} <= set(common)
    assert {k: keras_config[k] for k in common} == {k: ours_config[k] for k in common}
    assert theirs.name == f"rich_{kind.lower()}" and theirs.dtype_policy.name == "float64"
    assert theirs.cell.seed == 7 and not theirs.trainable
    assert keras.regularizers.serialize(theirs.activity_regularizer) == (
        keras.regularizers.serialize(ours.activity_regularizer)
    )
    assert getattr(theirs, "use_cudnn", "auto") == "auto"
    if kind in ("GRU", "KerasGRU"):
        assert theirs.reset_after is (kind == "KerasGRU")
    if kind == "LSTM":
        assert theirs.unit_forget_bias is False
    # Dropout is off at inference, so the function is the same.
    _assert_close(_call(ours, inputs, mask), _call(theirs, inputs, mask))

    back = from_keras(theirs)
    assert back.get_config() == ours_config
    assert keras.regularizers.serialize(back.activity_regularizer) == (
        keras.regularizers.serialize(ours.activity_regularizer)
    )
    _assert_close(_call(ours, inputs, mask), _call(back, inputs, mask))


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_unbuilt_layers_convert_unbuilt(kind):
    ours_class, keras_class, keras_kwargs, ours_kwargs = KINDS[kind]
    ours = ours_class(UNITS, **ours_kwargs, return_sequences=True, dropout=0.25, name="unbuilt")
    theirs = to_keras(ours)
    assert type(theirs) is keras_class and not theirs.built
    assert theirs.name == "unbuilt" and theirs.return_sequences and theirs.dropout == 0.25
    back = from_keras(theirs)
    assert not back.built and back.get_config() == ours.get_config()

    keras_layer = keras_class(UNITS, go_backwards=True, **keras_kwargs)
    converted = from_keras(keras_layer)
    assert type(converted) is ours_class and not converted.built and converted.go_backwards
    inputs, _, _ = _data(kind)
    assert _call(converted, inputs)[0].shape == (BATCH, UNITS)


MERGE_MODES = ["concat", "sum", "ave", "mul", None]
# `pytest -m "not slow"` runs "concat"; the other merge modes are marked slow.
MERGE_MODE_PARAMS = [
    pytest.param(mode, marks=() if mode == "concat" else pytest.mark.slow) for mode in MERGE_MODES
]


@pytest.mark.parametrize("merge_mode", MERGE_MODE_PARAMS)
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_bidirectional_round_trip_from_ours(kind, merge_mode):
    ours_class, keras_class, _, ours_kwargs = KINDS[kind]
    ours = Bidirectional(
        ours_class(UNITS, **ours_kwargs, return_sequences=True, return_state=True),
        merge_mode=merge_mode,
        name="bi",
    )
    inputs, mask, states = _data(kind)
    initial_state = states + [-s for s in states]
    _call(ours, inputs)
    _randomize(ours)
    expected = _call(ours, inputs, mask, initial_state)

    theirs = to_keras(ours)
    assert type(theirs) is keras.layers.Bidirectional and theirs.name == "bi"
    assert theirs.merge_mode == merge_mode
    assert type(theirs.forward_layer) is keras_class
    assert type(theirs.backward_layer) is keras_class
    assert theirs.backward_layer.go_backwards and not theirs.forward_layer.go_backwards
    _assert_close(expected, _call(theirs, inputs, mask, initial_state))

    back = from_keras(theirs)
    assert type(back) is Bidirectional and back.merge_mode == merge_mode
    _assert_same_weights(_weights(ours), _weights(back))
    _assert_close(expected, _call(back, inputs, mask, initial_state))
    assert back.forward_layer.name == ours.forward_layer.name
    assert back.backward_layer.name == ours.backward_layer.name


@pytest.mark.parametrize("merge_mode", MERGE_MODE_PARAMS)
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_bidirectional_from_keras(kind, merge_mode):
    ours_class, keras_class, keras_kwargs, ours_kwargs = KINDS[kind]
    # A backward layer that differs from the forward one must be converted on its own.
    theirs = keras.layers.Bidirectional(
        keras_class(UNITS, return_sequences=True, **keras_kwargs),
        merge_mode=merge_mode,
        backward_layer=keras_class(
            UNITS, activation="softsign", return_sequences=True, go_backwards=True, **keras_kwargs
        ),
    )
    inputs, mask, _ = _data(kind)
    _call(theirs, inputs)
    _randomize(theirs, seed=4)
    expected = _call(theirs, inputs, mask)

    ours = from_keras(theirs)
    assert type(ours) is Bidirectional and ours.merge_mode == merge_mode
    assert type(ours.forward_layer) is ours_class and type(ours.backward_layer) is ours_class
    assert ours.backward_layer.activation is keras.activations.softsign
    _assert_close(expected, _call(ours, inputs, mask))


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_gradients_agree(kind):
    """One training step would move both layers the same way (GRU: u-block negated)."""
    ours_class, _, _, ours_kwargs = KINDS[kind]
    ours = ours_class(UNITS, **ours_kwargs, return_sequences=True)
    inputs, mask, _ = _data(kind)
    _call(ours, inputs)
    _randomize(ours)
    theirs = to_keras(ours)
    target = np.random.default_rng(5).normal(size=(BATCH, TIME, UNITS)).astype("float32")

    def gradients(layer):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum((layer(inputs, mask=mask, training=True) - target) ** 2)
        return [np.array(g) for g in tape.gradient(loss, layer.cell.trainable_weights)]

    ours_grads, keras_grads = gradients(ours), gradients(theirs)
    if kind == "GRU":
        for grad in keras_grads:
            grad[..., :UNITS] *= -1
    _assert_close(ours_grads, keras_grads)


def _models():
    tokens = keras.Input((TIME,), dtype="int32")
    embedded = keras.layers.Embedding(7, FEATURES, mask_zero=True)(tokens)
    both = Bidirectional(GRU(UNITS, return_sequences=True), merge_mode="sum")(embedded)
    last = LSTM(UNITS)(both)
    functional = keras.Model(tokens, keras.layers.Dense(2)(last))
    sequential = keras.Sequential(
        [
            keras.Input((TIME, FEATURES)),
            SimpleRNN(UNITS, return_sequences=True),
            keras.layers.Dense(2),
        ]
    )
    return functional, sequential


def test_convert_model_both_directions():
    functional, sequential = _models()
    for model in (functional, sequential):
        for layer in model.layers:
            if isinstance(layer, (keras.layers.RNN, keras.layers.Bidirectional)):
                _randomize(layer)
    rng = np.random.default_rng(6)
    tokens = np.where(np.arange(TIME)[None, :] < np.array(LENGTHS)[:, None], 1, 0)
    tokens = (tokens * rng.integers(1, 7, size=(BATCH, TIME))).astype("int32")
    sequences = rng.normal(size=(BATCH, TIME, FEATURES)).astype("float32")

    for model, inputs in ((functional, tokens), (sequential, sequences)):
        expected = np.asarray(model(inputs))
        theirs = convert_model(model, "to_keras")
        kinds = {type(layer) for layer in theirs.layers}
        assert not kinds & {GRU, LSTM, SimpleRNN, Bidirectional}
        np.testing.assert_allclose(np.asarray(theirs(inputs)), expected, rtol=0, atol=TOL)
        back = convert_model(theirs, direction="from_keras")
        assert {type(layer) for layer in back.layers} == {type(layer) for layer in model.layers}
        np.testing.assert_allclose(np.asarray(back(inputs)), expected, rtol=0, atol=TOL)

    with pytest.raises(ValueError, match="direction"):
        convert_model(sequential, direction="sideways")


@pytest.mark.slow
def test_saved_stock_keras_model_converts_to_ours_and_back(tmp_path, run_python):
    # A .keras file of stock layers with Keras's defaults (reset-after GRUs, LSTMs,
    # Bidirectionals), as most saved Keras recurrent models are.
    tokens = keras.Input((TIME,), dtype="int32")
    embedded = keras.layers.Embedding(9, FEATURES, mask_zero=True)(tokens)
    both = keras.layers.Bidirectional(keras.layers.GRU(UNITS, return_sequences=True))(embedded)
    both = keras.layers.Bidirectional(
        keras.layers.LSTM(UNITS, return_sequences=True), merge_mode="sum"
    )(both)
    sequence = keras.layers.LSTM(UNITS, return_sequences=True)(both)
    last = keras.layers.GRU(UNITS, go_backwards=True)(sequence)
    stock = keras.Model(tokens, keras.layers.Dense(2)(last))
    for layer in stock.layers:
        if isinstance(layer, (keras.layers.RNN, keras.layers.Bidirectional)):
            _randomize(layer, seed=8)
    stock.save(tmp_path / "stock.keras")

    rng = np.random.default_rng(9)
    inputs = np.where(np.arange(TIME)[None, :] < np.array(LENGTHS)[:, None], 1, 0)
    inputs = (inputs * rng.integers(1, 9, size=(BATCH, TIME))).astype("int32")
    loaded = keras.saving.load_model(tmp_path / "stock.keras")
    expected = np.asarray(loaded(inputs))

    ours = convert_model(loaded, direction="from_keras")
    recurrent = [
        layer
        for layer in ours.layers
        if isinstance(layer, (keras.layers.RNN, keras.layers.Bidirectional))
    ]
    assert [type(layer) for layer in recurrent] == [Bidirectional, Bidirectional, LSTM, GRU]
    assert all(layer.forward_layer.reset_after for layer in recurrent[:1])
    np.testing.assert_allclose(np.asarray(ours(inputs)), expected, rtol=0, atol=TOL)
    ours.save(tmp_path / "ours.keras")
    np.save(tmp_path / "inputs.npy", inputs)

    script = f"""
import numpy as np, keras, seqapps
from seqapps.interop import convert_model
ours = keras.saving.load_model({str(tmp_path / "ours.keras")!r})
back = convert_model(ours, direction="to_keras")
inputs = np.load({str(tmp_path / "inputs.npy")!r})
np.save({str(tmp_path / "ours.npy")!r}, np.asarray(ours(inputs)))
np.save({str(tmp_path / "back.npy")!r}, np.asarray(back(inputs)))
print("KINDS", sorted({{type(layer).__module__.split(".")[0] for layer in back.layers}}))
"""
    result = run_python(["-c", script])
    assert "KINDS ['keras']" in result.stdout
    np.testing.assert_allclose(np.load(tmp_path / "ours.npy"), expected, rtol=0, atol=TOL)
    np.testing.assert_allclose(np.load(tmp_path / "back.npy"), expected, rtol=0, atol=TOL)


# ------------------------------------------------------------------------------- errors


def test_keras_default_gru_weights_are_copied_as_they_are():
    theirs = keras.layers.GRU(UNITS)
    theirs.build((None, None, FEATURES))
    _randomize(theirs)
    ours = from_keras(theirs)
    assert ours.reset_after and tuple(ours.cell.bias.shape) == (2, 3 * UNITS)
    _assert_same_weights(_weights(theirs), _weights(ours))


def test_gru_without_relevance_gate_is_refused():
    with pytest.raises(ValueError, match="relevance_gate=False"):
        to_keras(GRU(UNITS, relevance_gate=False))


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_gru_non_sigmoid_gates_are_refused(activation):
    with pytest.raises(ValueError, match=f"recurrent_activation='{activation}'"):
        to_keras(GRU(UNITS, recurrent_activation=activation))
    with pytest.raises(ValueError, match=f"recurrent_activation='{activation}'"):
        from_keras(keras.layers.GRU(UNITS, reset_after=False, recurrent_activation=activation))


def test_gru_sign_dependent_constraint_is_refused():
    with pytest.raises(ValueError, match="kernel_constraint=.*NonNeg"):
        to_keras(GRU(UNITS, kernel_constraint="non_neg"))
    # LSTM weights are copied as they are, so any constraint is fine.
    assert isinstance(to_keras(LSTM(UNITS, kernel_constraint="non_neg")), keras.layers.LSTM)


def test_gru_asymmetric_initializer_warns():
    with pytest.warns(UserWarning, match="bias_initializer=.*not symmetric"):
        converted = from_keras(keras.layers.GRU(UNITS, reset_after=False, bias_initializer="ones"))
    assert isinstance(converted, GRU)


@pytest.mark.parametrize(
    ("convert", "layer", "match"),
    [
        (from_keras, lambda: keras.layers.Dense(3), "received keras.*Dense"),
        (to_keras, lambda: keras.layers.Dense(3), "received keras.*Dense"),
        (from_keras, lambda: LSTM(UNITS), "already a seqapps layer"),
        (to_keras, lambda: keras.layers.LSTM(UNITS), "already a Keras layer"),
        (to_keras, lambda: keras.layers.Bidirectional(keras.layers.LSTM(2)), "already a Keras"),
        (
            from_keras,
            lambda: keras.layers.RNN(keras.layers.LSTMCell(UNITS)),
            "received keras.*RNN",
        ),
        (
            from_keras,
            lambda: type("MyLSTM", (keras.layers.LSTM,), {})(UNITS),
            "subclasses are not converted",
        ),
        (
            from_keras,
            lambda: keras.layers.Bidirectional(keras.layers.RNN(keras.layers.GRUCell(2))),
            "received keras.*RNN",
        ),
    ],
)
def test_unsupported_layers_are_refused(convert, layer, match):
    with pytest.raises(ValueError, match=match):
        convert(layer())


def test_use_cudnn():
    assert to_keras(LSTM(UNITS), use_cudnn=False).use_cudnn is False
    assert to_keras(GRU(UNITS)).use_cudnn == "auto"
    bidirectional = to_keras(Bidirectional(LSTM(UNITS)), use_cudnn=False)
    assert bidirectional.forward_layer.use_cudnn is False
    assert bidirectional.backward_layer.use_cudnn is False
    for layer in (SimpleRNN(UNITS), GRU(UNITS)):
        with pytest.raises(ValueError, match="use_cudnn=True"):
            to_keras(layer, use_cudnn=True)
    with pytest.raises(ValueError, match="use_cudnn"):
        to_keras(LSTM(UNITS), use_cudnn="yes")
    # Each layer's own setting travels both ways unless the call overrides it.
    assert to_keras(LSTM(UNITS, use_cudnn=False)).use_cudnn is False
    assert to_keras(GRU(UNITS, reset_after=True, use_cudnn=True)).use_cudnn is True
    assert from_keras(keras.layers.LSTM(UNITS, use_cudnn=False)).use_cudnn is False
    assert from_keras(keras.layers.GRU(UNITS, use_cudnn=True)).use_cudnn is True
