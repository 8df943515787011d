"""`--ensemble N`: members trained side by side, scored and sampled by their mean probabilities."""

import keras
import numpy as np
import pytest
from support.doctests import run_examples
from support.names import tiny_run

from apps.names import model as names_model


@pytest.fixture(scope="module")
def ensemble_run(tmp_path_factory, names_file):
    return tiny_run(
        tmp_path_factory, names_file, "names_ensemble_run", ensemble=3, epochs=3, units=16
    )


@pytest.fixture(scope="module")
def ensemble(ensemble_run):
    from apps import names

    return names.load(ensemble_run)


def mixture_by_hand(model, ids, never=()):
    """log of the mean of the members' softmax, from the members themselves.

    With `never`, each member's distribution is first restricted to the other ids, as
    the sampler restricts it (padding and the unknown character are never sampled).
    """
    log_probs = []
    for member in names_model.ensemble_members(model):
        logits = keras.ops.convert_to_numpy(member(ids)).astype("float64")
        logits[..., list(never)] = -np.inf
        top = logits.max(axis=-1, keepdims=True)
        log_probs.append(logits - top - np.log(np.exp(logits - top).sum(axis=-1, keepdims=True)))
    stacked = np.stack(log_probs)
    return np.logaddexp.reduce(stacked, axis=0) - np.log(len(log_probs))


def restricted_log_prob(model, text):
    """The sampler's log-probability of `text`: end symbol included, never-sampled ids out."""
    vocabulary = names_model.vocabulary_of(model)
    (inputs, targets), *_ = names_model.encode_examples(vocabulary, [text])
    never = (vocabulary.PAD_ID, vocabulary.UNKNOWN_ID)
    mixed = mixture_by_hand(model, np.array([inputs], "int32"), never)[0]
    return mixed, targets, float(mixed[np.arange(len(targets)), targets].sum())


def test_docstring_examples():
    examples, failures = run_examples(names_model, "apps.names.model", vars(names_model))
    assert examples > 0 and failures == 0


@pytest.mark.slow
def test_the_model_gives_the_members_mean_probabilities(ensemble):
    members = names_model.ensemble_members(ensemble)
    assert [member.name for member in members] == ["member_0", "member_1", "member_2"]
    # Their own weights and dropout masks: the members learned different functions.
    kernels = [member.get_layer("logits").kernel.numpy() for member in members]
    assert not np.allclose(kernels[0], kernels[1]) and not np.allclose(kernels[1], kernels[2])
    ids = np.array([[1, 5, 7, 9, 4], [1, 6, 8, 0, 0]], "int32")
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(ensemble(ids)), mixture_by_hand(ensemble, ids), atol=1e-5
    )


@pytest.mark.slow
def test_samples_carry_their_log_probability_under_the_mixture(ensemble):
    from apps.names.generate import sample_names
    from apps.names.scoring import score_strings

    samples = [s for s in sample_names(ensemble, count=12, seed=3) if s["ended"]]
    assert len(samples) >= 6
    np.testing.assert_allclose(
        [s["log_prob"] for s in samples],
        [restricted_log_prob(ensemble, s["sample"])[2] for s in samples],
        atol=1e-3,
    )
    # Scoring keeps the whole distribution, so it gives each sample a little less.
    scores = score_strings(ensemble, [s["sample"] for s in samples])
    assert all(r["log_prob"] < s["log_prob"] for r, s in zip(scores, samples))


@pytest.mark.slow
def test_greedy_and_beam_follow_the_mixture(ensemble):
    from apps.names.generate import beam_names, sample_names

    greedy = sample_names(ensemble, temperature=0.0)[0]
    mixed, targets, _ = restricted_log_prob(ensemble, greedy["sample"])
    picked = mixed[np.arange(len(targets)), targets]
    assert np.max(mixed.max(axis=-1) - picked) < 1e-4
    beams = beam_names(ensemble, beam=4)
    assert len(beams) == 4
    np.testing.assert_allclose(
        [b["log_prob"] for b in beams],
        [restricted_log_prob(ensemble, b["sample"])[2] for b in beams],
        atol=1e-3,
    )
    # The best beam is at least as likely as the greedy name.
    assert beams[0]["log_prob"] >= greedy["log_prob"] - 1e-4


@pytest.mark.slow
def test_saved_model_scores_as_the_keras_model(ensemble_run, ensemble):
    import tensorflow as tf

    from apps.names.scoring import score_strings

    served = tf.saved_model.load(str(ensemble_run / "saved_model"))
    strings = ["Alnosaurus", "Kyops", "Qx"]
    result = served.signatures["score"](strings=tf.constant(strings))
    expected = [r["log_prob"] for r in score_strings(ensemble, strings)]
    np.testing.assert_allclose(result["log_prob"].numpy(), expected, atol=1e-4)
    sampled = served.signatures["sample"](
        count=tf.constant(4),
        temperature=tf.constant(1.0),
        seed=tf.constant(1),
        prefix=tf.constant(""),
    )
    assert sampled["strings"].shape == (4,)


def test_members_must_agree_on_their_special_tokens():
    from seqapps.generation.sampler import EnsembleSampler, RecurrentSampler

    def sampler(end_id):
        return RecurrentSampler([], step_input=None, head=None, start_id=1, end_id=end_id)

    with pytest.raises(ValueError, match="end_id"):
        EnsembleSampler([sampler(1), sampler(2)])
    with pytest.raises(ValueError, match="at least one member"):
        EnsembleSampler([])
