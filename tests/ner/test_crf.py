"""seqapps.layers.CRF against brute-force enumeration of every tag path."""

import itertools

import keras
import numpy as np
import pytest
import tensorflow as tf

from seqapps.layers import CRF, CRFLoss
from seqapps.text import tagging

K, T = 4, 4
MASK = np.array([[1, 1, 1, 1], [1, 1, 1, 0], [1, 0, 0, 0], [0, 1, 0, 1], [0, 0, 0, 0]], bool)


def make_crf(seed=0, num_tags=K, **kwargs):
    rng = np.random.default_rng(seed)
    crf = CRF(num_tags, **kwargs)
    crf.build((None, None, num_tags))
    crf.transitions.assign(rng.normal(size=(num_tags, num_tags)).astype("float32"))
    crf.start_scores.assign(rng.normal(size=num_tags).astype("float32"))
    crf.end_scores.assign(rng.normal(size=num_tags).astype("float32"))
    return crf


def brute_force(crf, potentials, mask):
    """All paths over the real steps of one sequence: (paths, log-probabilities, scores)."""
    transitions = crf.transitions.numpy().astype("float64")
    starts = crf.start_scores.numpy().astype("float64")
    ends = crf.end_scores.numpy().astype("float64")
    allowed = crf.allowed_transitions
    phi = potentials[mask].astype("float64")
    if not len(phi):  # no real step: the empty path, score 0
        return [()], np.zeros(1), np.zeros(1)
    paths = list(itertools.product(range(crf.num_tags), repeat=len(phi)))
    scores = []
    for path in paths:
        score = starts[path[0]] + ends[path[-1]] + sum(phi[i, t] for i, t in enumerate(path))
        score += sum(transitions[a, b] for a, b in zip(path, path[1:]))
        valid = allowed is None or (
            crf.allowed_starts[path[0]]
            and crf.allowed_ends[path[-1]]
            and all(allowed[a][b] for a, b in zip(path, path[1:]))
        )
        scores.append(score if valid else -np.inf)
    scores = np.array(scores)
    return paths, scores - np.logaddexp.reduce(scores), scores


def constrained_crf(seed=0):
    tags = tagging.tag_set(["PER"], "BIOES")  # O B I E S: 5 tags
    transitions, starts, ends = tagging.allowed_transitions(tags, "BIOES")
    crf = make_crf(
        seed,
        num_tags=len(tags),
        allowed_transitions=transitions,
        allowed_starts=starts,
        allowed_ends=ends,
    )
    return tags, crf


@pytest.mark.parametrize("constrained", [False, True])
def test_nll_viterbi_and_marginals_equal_brute_force(constrained):
    if constrained:
        _, crf = constrained_crf(1)
    else:
        crf = make_crf(1)
    k = crf.num_tags
    rng = np.random.default_rng(2)
    potentials = rng.normal(size=(len(MASK), T, k)).astype("float32")
    # Padded steps hold garbage that must not matter.
    potentials[~MASK] = 50.0
    gold = rng.integers(0, k, size=(len(MASK), T)).astype("int32")
    for row in range(len(MASK)):
        paths, log_probs, scores = brute_force(crf, potentials[row], MASK[row])
        if constrained:  # a valid gold path
            valid = [p for p, s in zip(paths, scores) if np.isfinite(s)]
            gold[row][MASK[row]] = valid[row % len(valid)]
        path = tuple(gold[row][MASK[row]])
        expected_ll = log_probs[paths.index(path)]
        loss = -CRFLoss(crf)(np.where(MASK[row], gold[row], -1)[None], potentials[row][None])
        rows = slice(row, row + 1)
        likelihood = crf.log_likelihood(potentials[rows], gold[rows], MASK[rows])
        assert float(likelihood[0]) == pytest.approx(expected_ll, abs=1e-4)
        assert float(loss) == pytest.approx(expected_ll, abs=1e-4)

    tags, best = crf.viterbi(potentials, MASK)
    decoded, marginals = crf.decode(potentials, MASK)
    np.testing.assert_array_equal(tags.numpy(), decoded.numpy())
    for row in range(len(MASK)):
        paths, log_probs, scores = brute_force(crf, potentials[row], MASK[row])
        assert tags.numpy()[row][~MASK[row]].tolist() == [0] * int((~MASK[row]).sum())
        if not MASK[row].any():
            assert float(best[row]) == 0.0 and not marginals.numpy()[row].any()
            continue
        assert tuple(tags.numpy()[row][MASK[row]]) == paths[int(np.argmax(scores))]
        assert float(best[row]) == pytest.approx(scores.max(), abs=1e-4)
        expected = np.zeros((int(MASK[row].sum()), k))
        for path, log_prob in zip(paths, log_probs):
            for step, tag in enumerate(path):
                expected[step, tag] += np.exp(log_prob)
        got = marginals.numpy()[row]
        np.testing.assert_allclose(got[MASK[row]], expected, atol=1e-5)
        np.testing.assert_allclose(got[MASK[row]].sum(-1), 1.0, atol=1e-5)
        assert not got[~MASK[row]].any()


def test_decoded_paths_never_take_a_forbidden_transition():
    tags, crf = constrained_crf(3)
    rng = np.random.default_rng(4)
    # Potentials that strongly prefer invalid paths (E- and I- everywhere).
    potentials = rng.normal(scale=5.0, size=(64, 9, len(tags))).astype("float32")
    potentials[..., tags.index("I-PER")] += 6.0
    lengths = rng.integers(1, 10, size=64)
    mask = np.arange(9)[None] < lengths[:, None]
    for decoded in (crf.viterbi(potentials, mask)[0], crf(potentials, mask=mask)[0]):
        for row, length in zip(decoded.numpy(), lengths):
            assert tagging.is_valid([tags[t] for t in row[:length]], "BIOES")


def test_padding_does_not_change_anything():
    crf = make_crf(5)
    rng = np.random.default_rng(6)
    short = rng.normal(size=(1, 3, K)).astype("float32")
    padded = np.concatenate([short, rng.normal(size=(1, 4, K)).astype("float32")], axis=1)
    mask = np.array([[1, 1, 1, 0, 0, 0, 0]], bool)
    tags = np.array([[0, 1, 2, 3, 3, 3, 3]], "int32")
    assert float(crf.log_likelihood(short, tags[:, :3])[0]) == pytest.approx(
        float(crf.log_likelihood(padded, tags, mask)[0]), abs=1e-5
    )
    short_tags, short_marginals = crf(short)
    padded_tags, padded_marginals = crf(padded, mask=mask)
    np.testing.assert_array_equal(short_tags.numpy(), padded_tags.numpy()[:, :3])
    np.testing.assert_allclose(short_marginals.numpy(), padded_marginals.numpy()[:, :3], atol=1e-6)


def test_empty_time_axis_and_gradients():
    crf = make_crf(7)
    empty = np.zeros((2, 0, K), "float32")
    tags, marginals = crf(empty)
    assert tags.shape == (2, 0) and marginals.shape == (2, 0, K)
    np.testing.assert_array_equal(crf.log_likelihood(empty, np.zeros((2, 0), "int32")), [0, 0])
    potentials = tf.Variable(np.random.default_rng(8).normal(size=(2, 3, K)).astype("float32"))
    with tf.GradientTape() as tape:
        loss = CRFLoss(crf)(np.array([[0, 1, 2], [3, -1, -1]]), potentials)
    gradients = tape.gradient(loss, [potentials, crf.transitions, crf.start_scores, crf.end_scores])
    assert all(g is not None and np.isfinite(g.numpy()).all() for g in gradients)
    # No gradient reaches padded steps.
    assert not gradients[0].numpy()[1, 1:].any()


def test_config_round_trip_and_saved_model(tmp_path):
    tags, crf = constrained_crf(9)
    clone = CRF.from_config(crf.get_config())
    assert clone.get_config() == crf.get_config()
    assert clone.allowed_transitions.tolist() == crf.allowed_transitions.tolist()
    inputs = keras.Input((None, len(tags)))
    model = keras.Model(inputs, crf(inputs))
    model.save(tmp_path / "crf.keras")
    loaded = keras.saving.load_model(tmp_path / "crf.keras")
    potentials = np.random.default_rng(10).normal(size=(3, 5, len(tags))).astype("float32")
    for a, b in zip(model(potentials), loaded(potentials)):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"num_tags": 0}, "positive integer"),
        ({"num_tags": 3, "allowed_transitions": [[1, 0], [0, 1]]}, "shape (3, 3)"),
        ({"num_tags": 2, "allowed_starts": [2, 1]}, "booleans"),
    ],
)
def test_bad_arguments(kwargs, fragment):
    with pytest.raises(ValueError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        CRF(**kwargs)
    with pytest.raises(ValueError, match="mode"):
        CRF(2)(np.zeros((1, 2, 2), "float32"), mode="nope")


class _MixedScorer(keras.layers.Layer):
    """A layer under a mixed policy whose `call` scores with a CRF (as a custom loss layer
    would): Keras autocasts variables read inside it to the compute dtype."""

    def __init__(self, crf, **kwargs):
        super().__init__(**kwargs)
        self.crf = crf

    def call(self, potentials, tags, mask):
        return self.crf.log_likelihood(potentials, tags, mask)


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_policies_compute_in_float32(policy):
    reference = make_crf(11)
    crf = CRF(K, dtype=policy)
    crf.build((None, None, K))
    crf.set_weights(reference.get_weights())
    assert crf.compute_dtype != "float32" and crf.transitions.dtype == "float32"
    rng = np.random.default_rng(12)
    # Generic float32 potentials: rounding them to the compute dtype would show too.
    potentials = rng.normal(scale=3.0, size=(len(MASK), T, K)).astype("float32")
    gold = rng.integers(0, K, size=(len(MASK), T)).astype("int32")

    tags, marginals = crf(potentials, mask=MASK)
    expected_tags, expected_marginals = reference(potentials, mask=MASK)
    assert marginals.dtype == "float32"
    np.testing.assert_array_equal(tags.numpy(), expected_tags.numpy())
    np.testing.assert_allclose(marginals.numpy(), expected_marginals.numpy(), atol=1e-6)
    np.testing.assert_array_equal(
        crf(potentials, mask=MASK, mode="viterbi").numpy(), expected_tags.numpy()
    )
    _, best = crf.viterbi(potentials, MASK)
    np.testing.assert_allclose(
        best.numpy(), reference.viterbi(potentials, MASK)[1].numpy(), atol=1e-5
    )
    passed = crf(potentials, mode="potentials")
    assert passed.dtype == "float32"
    np.testing.assert_array_equal(passed.numpy(), potentials)

    # The NLL inside another mixed-precision layer's call. Its inputs are cast to the
    # compute dtype, so these potentials are exact in float16 and bfloat16 (k / 8, |k| < 128).
    exact = (np.clip(np.round(potentials * 8), -127, 127) / 8).astype("float32")
    nll = -_MixedScorer(crf, dtype=policy)(exact, gold, MASK)
    expected_nll = -reference.log_likelihood(exact, gold, MASK)
    assert nll.dtype == "float32"
    np.testing.assert_allclose(nll.numpy(), expected_nll.numpy(), atol=1e-5)
    loss = CRFLoss(crf)(np.where(MASK, gold, -1), exact)
    assert float(loss) == pytest.approx(
        float(CRFLoss(reference)(np.where(MASK, gold, -1), exact)), abs=1e-5
    )
