"""A padded batch gives, per example, exactly what each example gives alone."""

import numpy as np
import pytest

from seqapps.layers import GRU, LSTM, Bidirectional, SimpleRNN

LAYERS = {
    "rnn": lambda **kw: SimpleRNN(5, **kw),
    "gru": lambda **kw: GRU(5, **kw),
    "gru_simplified": lambda **kw: GRU(5, relevance_gate=False, **kw),
    "gru_reset_after": lambda **kw: GRU(5, reset_after=True, **kw),
    "lstm": lambda **kw: LSTM(5, **kw),
}
LENGTHS = [7, 3, 5, 1]


def _padded_batch(rng, padding="post"):
    max_len = max(LENGTHS)
    examples = [rng.normal(size=(n, 4)).astype("float32") for n in LENGTHS]
    batch = rng.normal(size=(len(LENGTHS), max_len, 4)).astype("float32") * 100
    mask = np.zeros((len(LENGTHS), max_len), bool)
    for i, example in enumerate(examples):
        n = len(example)
        where = slice(0, n) if padding == "post" else slice(max_len - n, max_len)
        batch[i, where] = example
        mask[i, where] = True
    return examples, batch, mask


def _copy_weights(source, target, example):
    target(example[None])
    target.set_weights(source.get_weights())


@pytest.mark.parametrize("kind", list(LAYERS))
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("padding", ["post", "pre"])
def test_padded_final_state_equals_unpadded(kind, go_backwards, padding):
    rng = np.random.default_rng(0)
    examples, batch, mask = _padded_batch(rng, padding)
    layer = LAYERS[kind](go_backwards=go_backwards, return_state=True)
    last, *states = layer(batch, mask=mask)
    for i, example in enumerate(examples):
        alone_last, *alone_states = layer(example[None])
        np.testing.assert_allclose(last[i], alone_last[0], atol=1e-6)
        for state, alone in zip(states, alone_states):
            np.testing.assert_allclose(state[i], alone[0], atol=1e-6)


@pytest.mark.parametrize("kind", list(LAYERS))
@pytest.mark.parametrize("go_backwards", [False, True])
def test_padded_sequences_equal_unpadded(kind, go_backwards):
    rng = np.random.default_rng(1)
    examples, batch, mask = _padded_batch(rng)
    layer = LAYERS[kind](go_backwards=go_backwards, return_sequences=True)
    outputs = layer(batch, mask=mask).numpy()
    for i, example in enumerate(examples):
        alone = layer(example[None]).numpy()[0]
        n = len(example)
        # Backward outputs come in processing order, so an example's real
        # steps sit after its padding there.
        got = outputs[i, -n:] if go_backwards else outputs[i, :n]
        np.testing.assert_allclose(got, alone, atol=1e-6)


@pytest.mark.parametrize("kind", list(LAYERS))
@pytest.mark.parametrize(
    "merge_mode",
    # `pytest -m "not slow"` runs "concat"; the other merge modes are marked slow.
    ["concat", *(pytest.param(mode, marks=pytest.mark.slow) for mode in ("sum", "ave", "mul"))],
)
def test_bidirectional_padded_equals_unpadded(kind, merge_mode):
    rng = np.random.default_rng(2)
    examples, batch, mask = _padded_batch(rng)
    layer = Bidirectional(LAYERS[kind](return_sequences=True), merge_mode=merge_mode)
    outputs = layer(batch, mask=mask).numpy()
    for i, example in enumerate(examples):
        alone = layer(example[None]).numpy()[0]
        np.testing.assert_allclose(outputs[i, : len(example)], alone, atol=1e-6)
        np.testing.assert_array_equal(outputs[i, len(example) :], 0.0)


def test_bidirectional_last_output_with_mask():
    rng = np.random.default_rng(3)
    examples, batch, mask = _padded_batch(rng)
    layer = Bidirectional(LSTM(5))
    outputs = layer(batch, mask=mask).numpy()
    for i, example in enumerate(examples):
        np.testing.assert_allclose(outputs[i], layer(example[None]).numpy()[0], atol=1e-6)


def test_mask_from_embedding_reaches_the_layer():
    import keras

    tokens = np.array([[3, 4, 5, 0, 0], [6, 0, 0, 0, 0]])
    inputs = keras.Input((None,), dtype="int32")
    embedded = keras.layers.Embedding(10, 4, mask_zero=True)(inputs)
    model = keras.Model(inputs, Bidirectional(GRU(3))(embedded))
    batch = model.predict(tokens, verbose=0)
    alone = [model.predict(tokens[i : i + 1, :n], verbose=0)[0] for i, n in enumerate([3, 1])]
    np.testing.assert_allclose(batch, np.stack(alone), atol=1e-6)


@pytest.mark.parametrize("kind", list(LAYERS))
def test_empty_sequences_give_the_initial_state(kind):
    layer = LAYERS[kind](return_state=True)
    empty = np.zeros((2, 0, 4), "float32")
    last, *states = layer(empty)
    assert tuple(last.shape) == (2, 5)
    np.testing.assert_array_equal(last, 0.0)
    sequence_layer = LAYERS[kind](return_sequences=True)
    assert tuple(sequence_layer(empty).shape) == (2, 0, 5)
    bidirectional = Bidirectional(LAYERS[kind]())
    np.testing.assert_array_equal(bidirectional(empty), np.zeros((2, 10)))


def test_empty_sequences_in_a_model_with_dynamic_length():
    import keras

    inputs = keras.Input((None,), dtype="int32")
    embedded = keras.layers.Embedding(10, 4, mask_zero=True)(inputs)
    model = keras.Model(inputs, Bidirectional(LSTM(3))(embedded))
    np.testing.assert_array_equal(model(np.zeros((2, 0), "int32")), np.zeros((2, 6)))
    assert model(np.ones((1, 3), "int32")).shape == (1, 6)
