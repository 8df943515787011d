"""seqapps.losses.TokenCrossentropy: masked token means, saving, and one device == two replicas."""

import doctest
import json
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

import seqapps.losses
from seqapps.losses import TokenCrossentropy, replica_sum

CLASSES = 5


def reference(labels, log_p, real, weights=None):
    """Σ w ℓ / Σ w over the real tokens, in float64."""
    weights = np.ones(labels.shape) if weights is None else np.broadcast_to(weights, labels.shape)
    picked = np.take_along_axis(log_p, np.where(real, labels, 0)[..., None], -1)[..., 0]
    weights = weights * real
    return float(-(picked * weights).sum() / weights.sum())


def batch(seed=0):
    rng = np.random.default_rng(seed)
    logits = rng.normal(scale=2.0, size=(3, 6, CLASSES)).astype("float32")
    lengths = np.array([6, 2, 4])
    real = np.arange(6)[None] < lengths[:, None]
    labels = np.where(real, rng.integers(0, CLASSES, size=(3, 6)), -1).astype("int32")
    log_p = logits.astype("float64") - np.log(np.exp(logits.astype("float64")).sum(-1))[..., None]
    return logits, labels, real, log_p


def test_mean_over_real_tokens_from_logits_and_probabilities():
    logits, labels, real, log_p = batch()
    expected = reference(labels, log_p, real)
    from_logits = TokenCrossentropy(from_logits=True)(labels, logits)
    probabilities = TokenCrossentropy()(labels, tf.nn.softmax(logits))
    assert float(from_logits) == pytest.approx(expected, abs=1e-5)
    assert float(probabilities) == pytest.approx(expected, abs=1e-5)
    # Not the mean over every position, nor the mean of the per-sequence means.
    assert abs(expected - reference(labels, log_p, np.ones_like(real))) > 1e-2
    # A Keras mask on the predictions is not used: the labels alone say what is padding.
    masked = tf.identity(logits)
    masked._keras_mask = tf.ones(labels.shape, "bool")
    assert float(TokenCrossentropy(from_logits=True)(labels, masked)) == pytest.approx(
        expected, abs=1e-5
    )


def test_pad_id_sample_weights_and_an_empty_batch():
    logits, labels, real, log_p = batch(1)
    # Class 0 is the padding (as in the character and music models).
    padded_with_zero = np.where(real, labels + 1, 0)
    shifted = np.concatenate([np.full((*logits.shape[:2], 1), -3.0), logits], -1)
    shifted_log_p = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
    expected = reference(padded_with_zero, shifted_log_p, real)
    loss = TokenCrossentropy(from_logits=True, ignore_class=0)
    assert float(loss(padded_with_zero, shifted.astype("float32"))) == pytest.approx(
        expected, abs=1e-5
    )

    per_token = np.random.default_rng(2).random(labels.shape).astype("float32")
    per_sequence = np.array([0.5, 2.0, 1.0], "float32")
    for weights, broadcast in ((per_token, per_token), (per_sequence, per_sequence[:, None])):
        got = TokenCrossentropy(from_logits=True)(labels, logits, sample_weight=weights)
        assert float(got) == pytest.approx(reference(labels, log_p, real, broadcast), abs=1e-5)

    nothing = np.full(labels.shape, -1, "int32")
    assert float(TokenCrossentropy(from_logits=True)(nothing, logits)) == 0.0
    unreduced = TokenCrossentropy(from_logits=True).call(labels, logits).numpy()
    assert unreduced.shape == labels.shape and not unreduced[~real].any()
    assert (unreduced[real] > 0).all()


def test_no_gradient_reaches_padded_tokens():
    logits, labels, real, _ = batch(3)
    variable = tf.Variable(logits)
    with tf.GradientTape() as tape:
        loss = TokenCrossentropy(from_logits=True)(labels, variable)
    gradient = tape.gradient(loss, variable).numpy()
    assert np.isfinite(gradient).all()
    assert not gradient[~real].any() and np.abs(gradient[real]).sum(-1).min() > 0


def test_replica_sum_without_a_strategy_is_the_value():
    assert float(replica_sum(tf.constant(3.0))) == 3.0


def test_config_round_trip_and_docstring_example():
    loss = TokenCrossentropy(from_logits=True, ignore_class=0, name="chars")
    config = keras.saving.serialize_keras_object(loss)
    assert config["registered_name"] == "seqapps>TokenCrossentropy"
    clone = keras.saving.deserialize_keras_object(config)
    assert isinstance(clone, TokenCrossentropy)
    assert clone.get_config() == {"name": "chars", "from_logits": True, "ignore_class": 0}
    globs = {"np": np, **vars(seqapps.losses)}
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    examples = 0
    for test in doctest.DocTestFinder().find(seqapps.losses, globs=globs):
        examples += len(test.examples)
        runner.run(test)
    assert examples > 0 and runner.failures == 0


@pytest.mark.slow
def test_saved_model_with_the_loss_loads_after_import_seqapps(run_python, tmp_path):
    """A `model.keras` compiled with the loss (as jazz saves) loads with its compile state."""
    path = tmp_path / "model.keras"
    inputs = keras.Input((None,), dtype="int32")
    outputs = keras.layers.Dense(CLASSES)(keras.layers.Embedding(CLASSES, 3)(inputs))
    model = keras.Model(inputs, outputs)
    model.compile("sgd", loss=TokenCrossentropy(from_logits=True, ignore_class=0, name="tokens"))
    model.save(path)
    script = textwrap.dedent(
        f"""
        import json, keras, seqapps
        model = keras.saving.load_model({str(path)!r})
        print("LOSS", type(model.loss).__name__, json.dumps(model.loss.get_config()))
        """
    )
    result = run_python(["-c", script], timeout=120)
    line = next(line for line in result.stdout.splitlines() if line.startswith("LOSS"))
    name, config = line.split(" ", 2)[1:]
    assert name == "TokenCrossentropy"
    assert json.loads(config) == {"name": "tokens", "from_logits": True, "ignore_class": 0}


MIRRORED = """
import json
from types import SimpleNamespace

import numpy as np
import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import keras

import seqapps
from apps.jazz import model as jazz_model
from apps.names import model as names_model
from apps.ner import model as ner_model
from seqapps import music
from seqapps.layers import CharVocabulary
from seqapps.training import TrainingConfig

strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
assert strategy.num_replicas_in_sync == 2
rng = np.random.default_rng(0)
GLOBAL, T, BATCHES = 8, 10, 3
# In every global batch the first replica's half is long and the second's short.
LENGTHS = np.tile([10, 9, 10, 8, 2, 3, 1, 2], BATCHES)
REAL = np.arange(T)[None] < LENGTHS[:, None]


def ids(low, high, pad):
    return np.where(REAL, rng.integers(low, high, size=REAL.shape), pad).astype("int32")


def ner():
    # The softmax tagger (--no-crf): probabilities, tags -1 at padding.
    features = SimpleNamespace(word_vocabulary_size=30, char_vocabulary_size=20)
    options = SimpleNamespace(
        word_dim=8, casing_dim=4, char_units=4, char_dim=4, char_cell="lstm", char_cnn_filters=0,
        char_cnn_width=3, cell="lstm",
        units=8, layers=1, bidirectional=True, dropout=0.0, recurrent_dropout=0.0, seed=1,
        crf=False,
    )
    tags = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]

    def build():
        config = TrainingConfig.from_options(options)
        training, _, loss = ner_model.build_tagger(features, tags, "IOB2", options, config)
        return training, loss

    chars = np.where(REAL[..., None], rng.integers(1, 20, size=(*REAL.shape, 5)), 0)
    x = (ids(2, 30, 0), ids(1, 6, 0), chars.astype("int32"))
    return build, x, ids(0, len(tags), -1), None, -1, False


def names():
    # The app's own train step (GradientNormTracker), next-character logits.
    vocabulary = CharVocabulary(list("abcdefgh"), terminated=True, name="vocabulary")
    options = SimpleNamespace(
        input="embedding", embedding_dim=8, embedding_dropout=0.0, cell="gru", units=8,
        layers=1, bidirectional=False, dropout=0.0, recurrent_dropout=0.0, seed=1,
        input_skip=False,
    )

    def build():
        return names_model.GradientNormTracker(
            names_model.build_core(vocabulary, options, TrainingConfig.from_options(options))
        ), None

    pad = CharVocabulary.PAD_ID
    return build, ids(1, vocabulary.size, pad), ids(1, vocabulary.size, pad), None, pad, True


def jazz():
    options = SimpleNamespace(
        embedding_dim=8, cell="lstm", units=8, layers=1, bidirectional=False, dropout=0.0,
        recurrent_dropout=0.0, seed=1, input_skip=True,
    )

    def build():
        model = jazz_model.build_model(options, TrainingConfig.from_options(options))
        return model, jazz_model.token_loss()

    step, beat = jazz_model.metrical_positions(T, 4)
    x = (
        ids(1, music.VOCAB_SIZE, music.PAD),
        rng.random((len(REAL), T, music.CHORD_DIM)).astype("float32"),
        np.tile(step, (len(REAL), 1)),
        np.tile(beat, (len(REAL), 1)),
    )
    # With the app's sample weights: 1 at real steps.
    return build, x, ids(2, music.VOCAB_SIZE, music.PAD), REAL.astype("float32"), music.PAD, True


def reference_loss(model, x, y, pad, from_logits):
    outputs = np.asarray(model(x), "float64")
    if from_logits:
        log_p = outputs - np.log(np.exp(outputs).sum(-1, keepdims=True))
    else:
        log_p = np.log(np.clip(outputs, 1e-7, 1 - 1e-7))
    real = y != pad
    picked = np.take_along_axis(log_p, np.where(real, y, 0)[..., None], -1)[..., 0]
    return -picked[real].mean()


def dataset(x, y, w, rows):
    parts = (x, y) if w is None else (x, y, w)
    parts = tf.nest.map_structure(lambda a: a[rows], parts)
    return tf.data.Dataset.from_tensor_slices(parts).batch(GLOBAL)


def count_real(*batch):
    return tf.reduce_sum(tf.cast(batch[1] != PAD, "int32"))


report = {}
for name, app in (("ner", ner), ("names", names), ("jazz", jazz)):
    build, x, y, w, PAD, from_logits = app()

    def make(build=build):
        keras.utils.set_random_seed(3)
        model, loss = build()
        model.compile(keras.optimizers.SGD(0.5), loss=loss)
        return model

    with strategy.scope():
        distributed = make()
    single = make()
    single.set_weights(distributed.get_weights())
    initial = [v.copy() for v in single.get_weights()]
    first = np.arange(GLOBAL)
    halves = strategy.experimental_distribute_dataset(dataset(x, y, w, first))
    counts = strategy.experimental_local_results(
        strategy.run(count_real, args=next(iter(halves)))
    )
    first_x = tf.nest.map_structure(lambda a: a[first], x)
    expected = reference_loss(single, first_x, y[first], PAD, from_logits)
    losses = {}
    for key, model in (("mirrored", distributed), ("single", single)):
        # One step on the first batch (its loss is that of the initial weights), then
        # two epochs of three batches.
        losses[key] = model.fit(dataset(x, y, w, first), verbose=0).history["loss"]
        everything = dataset(x, y, w, np.arange(len(y)))
        losses[key] += model.fit(everything, epochs=2, shuffle=False, verbose=0).history["loss"]
    pairs = zip(distributed.get_weights(), single.get_weights())
    report[name] = {
        "counts": [int(c) for c in counts],
        "expected": float(expected),
        "losses": losses,
        "gap": float(max(np.abs(a - b).max() for a, b in pairs)),
        "moved": float(max(np.abs(a - b).max() for a, b in zip(single.get_weights(), initial))),
    }
print("REPORT", json.dumps(report))
"""


@pytest.mark.slow
def test_two_replicas_equal_one_device_for_every_app_loss(run_python):
    """MirroredStrategy over two logical CPUs == one device: the NER softmax, names, jazz losses.

    The replicas' halves of each batch hold 37 and 8 real tokens, so a replica-local
    denominator, or a loss scaled twice or not at all, shows in the loss and the weights.
    """
    result = run_python(["-c", MIRRORED], timeout=400)
    line = next(line for line in result.stdout.splitlines() if line.startswith("REPORT"))
    report = json.loads(line.split(" ", 1)[1])
    assert set(report) == {"ner", "names", "jazz"}
    for name, app in report.items():
        assert app["counts"] == [37, 8], (name, app["counts"])
        mirrored, single = app["losses"]["mirrored"], app["losses"]["single"]
        # The first step's loss is the mean over the batch's real tokens.
        assert single[0] == pytest.approx(app["expected"], abs=1e-5), name
        np.testing.assert_allclose(mirrored, single, atol=1e-5, err_msg=name)
        assert app["gap"] < 1e-4, (name, app["gap"])
        assert app["moved"] > 1e-2, (name, app["moved"])
