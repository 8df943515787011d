"""`CharEncoder`: the recurrent and the convolutional character encodings of each word."""

import subprocess
import sys

import keras
import numpy as np
import pytest

import seqapps  # noqa: F401  (registers the layers for loading)
from seqapps.layers import CharEncoder

# Two sentences of three words; 0 pads characters and whole words.
CHAR_IDS = np.array(
    [
        [[2, 3, 4, 0], [5, 0, 0, 0], [6, 7, 8, 9]],
        [[3, 3, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]],
    ],
    dtype="int32",
)


def convolution_by_hand(encoder, char_ids):
    """tanh(b + sum_k W_k . e_{j+k}) with "same" zero padding, max over real characters."""
    table = np.asarray(encoder.embedding.embeddings)
    kernel, bias = (np.asarray(w) for w in encoder.convolution.get_weights())
    width = kernel.shape[0]
    left = (width - 1) // 2
    out = np.zeros((*char_ids.shape[:2], encoder.cnn_filters), "float32")
    for b, sentence in enumerate(char_ids):
        for t, word in enumerate(sentence):
            real = word > 0
            if not real.any():
                continue
            vectors = table[word] * real[:, None]
            padded = np.zeros((len(word) + width - 1, vectors.shape[1]), "float32")
            padded[left : left + len(word)] = vectors
            filters = np.stack(
                [
                    np.tanh(bias + np.einsum("kd,kdf->f", padded[j : j + width], kernel))
                    for j in range(len(word))
                ]
            )
            out[b, t] = filters[real].max(axis=0)
    return out


@pytest.mark.parametrize("width", [1, 3, 4])
def test_the_convolution_is_the_masked_max_of_tanh_filters(width):
    encoder = CharEncoder(12, embedding_dim=5, units=0, cnn_filters=7, cnn_width=width, seed=3)
    vectors = np.asarray(encoder(CHAR_IDS))
    assert vectors.shape == (2, 3, 7)
    np.testing.assert_allclose(vectors, convolution_by_hand(encoder, CHAR_IDS), atol=1e-5)


def test_both_encodings_are_concatenated_recurrent_first():
    both = CharEncoder(12, embedding_dim=5, units=4, cnn_filters=6, seed=1)
    vectors = np.asarray(both(CHAR_IDS))
    assert vectors.shape == (2, 3, 14)
    recurrent = np.asarray(
        both.encoder(both.embedding(CHAR_IDS.reshape(6, 4)), mask=CHAR_IDS.reshape(6, 4) > 0)
    ).reshape(2, 3, 8)
    np.testing.assert_allclose(vectors[..., :8], recurrent, atol=1e-6)
    np.testing.assert_allclose(vectors[..., 8:], convolution_by_hand(both, CHAR_IDS), atol=1e-5)
    # Padding words get zeros; the mask marks them.
    assert not vectors[1, 1:].any()
    np.testing.assert_array_equal(
        np.asarray(both.compute_mask(CHAR_IDS)), [[True, True, True], [True, False, False]]
    )


def test_trailing_character_padding_does_not_change_a_word():
    encoder = CharEncoder(12, embedding_dim=5, units=3, cnn_filters=4, seed=2)
    wider = np.concatenate([CHAR_IDS, np.zeros((2, 3, 3), "int32")], axis=-1)
    np.testing.assert_allclose(np.asarray(encoder(wider)), np.asarray(encoder(CHAR_IDS)), atol=1e-6)


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"units": 0, "cnn_filters": 0}, "not both 0"),
        ({"units": -1}, "must be >= 0"),
        ({"cnn_filters": 3, "cnn_width": 0}, "`cnn_width` must be at least 1"),
        ({"cell": "rnn"}, "'lstm' or 'gru'"),
    ],
)
def test_bad_arguments_are_refused(arguments, message):
    with pytest.raises(ValueError, match=message):
        CharEncoder(12, **arguments)


@pytest.mark.slow  # starts a process
def test_a_saved_model_with_the_convolution_loads_in_a_fresh_process(tmp_path):
    char_ids = keras.Input((None, None), dtype="int32")
    model = keras.Model(char_ids, CharEncoder(12, 5, units=3, cnn_filters=4, cnn_width=2)(char_ids))
    path = tmp_path / "encoder.keras"
    model.save(path)
    np.save(tmp_path / "ids.npy", CHAR_IDS)
    np.save(tmp_path / "expected.npy", np.asarray(model(CHAR_IDS)))
    script = (
        "import numpy as np, keras, seqapps, sys\n"
        f"model = keras.saving.load_model({str(path)!r})\n"
        "layer = model.layers[-1]\n"
        "assert (layer.cnn_filters, layer.cnn_width, layer.units) == (4, 2, 3)\n"
        f"got = np.asarray(model(np.load({str(tmp_path / 'ids.npy')!r})))\n"
        f"np.testing.assert_allclose(got, np.load({str(tmp_path / 'expected.npy')!r}), atol=1e-6)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]


def test_a_config_from_before_the_convolution_builds_the_recurrent_encoder_only():
    config = CharEncoder(12, 5, units=3).get_config()
    for key in ("cnn_filters", "cnn_width"):
        config.pop(key)
    encoder = CharEncoder.from_config(config)
    assert encoder.convolution is None
    assert np.asarray(encoder(CHAR_IDS)).shape == (2, 3, 6)
