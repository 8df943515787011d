"""The compiled sampling loop against step-by-step references built from the Keras model."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from seqapps.generation.sampler import RecurrentSampler
from seqapps.layers import GRU, LSTM, SimpleRNN

VOCAB, CONDITION, START, END = 11, 3, 1, 2


def _language_model(layer_class, conditioned, seed=0):
    keras.utils.set_random_seed(seed)
    tokens = keras.Input((None,), dtype="int32")
    embedding = keras.layers.Embedding(VOCAB, 6)
    inputs = [tokens]
    features = embedding(tokens)
    if conditioned:
        condition = keras.Input((None, CONDITION))
        inputs.append(condition)
        features = keras.layers.Concatenate()([features, condition])
    first = layer_class(8, return_sequences=True)
    second = layer_class(7, return_sequences=True)
    head = keras.layers.Dense(VOCAB, kernel_initializer=keras.initializers.RandomNormal(stddev=2.0))
    model = keras.Model(inputs, head(second(first(features))))

    def step_input(token, condition, step):
        embedded = embedding(token)
        return embedded if condition is None else tf.concat([embedded, condition], axis=-1)

    return model, step_input, [first.cell, second.cell], head


def _reference_greedy(model, steps, conditions=None, prefix=()):
    """Greedy decoding by re-running the whole Keras model on the growing sequence."""
    sequence = [START]
    for step in range(steps):
        inputs = [np.array([sequence])]
        if conditions is not None:
            rows = np.resize(conditions, (len(sequence), conditions.shape[-1]))
            inputs.append(rows[np.newaxis])
        logits = model(inputs).numpy()[0, -1]
        sequence.append(prefix[step] if step < len(prefix) else int(np.argmax(logits)))
    return sequence[1:]


@pytest.mark.parametrize("layer_class", [LSTM, GRU, SimpleRNN])
def test_greedy_equals_step_by_step_reference(layer_class):
    model, step_input, cells, head = _language_model(layer_class, conditioned=True)
    sampler = RecurrentSampler(cells, step_input, head, start_id=START)
    conditions = np.random.default_rng(1).random((5, CONDITION)).astype("float32")
    prefix = [4, 7]
    result = sampler.generate(1, 12, conditions=conditions, prefix=prefix, temperature=0.0)
    expected = _reference_greedy(model, 12, conditions, prefix)
    assert result.tokens[0].tolist() == expected
    assert result.lengths.tolist() == [12]


def test_xla_greedy_equals_graph_greedy():
    _, step_input, cells, head = _language_model(LSTM, conditioned=False)
    sampler = RecurrentSampler(cells, step_input, head, start_id=START)
    graph = sampler.generate(3, 15, temperature=0.0)
    compiled = sampler.generate(3, 15, temperature=0.0, jit=True)
    np.testing.assert_array_equal(graph.tokens, compiled.tokens)
    np.testing.assert_allclose(graph.log_probs, compiled.log_probs, rtol=1e-5)


def test_seed_reproduces_and_different_seeds_differ():
    _, step_input, cells, head = _language_model(GRU, conditioned=False)
    sampler = RecurrentSampler(cells, step_input, head, start_id=START)
    first = sampler.generate(16, 20, seed=5)
    again = sampler.generate(16, 20, seed=5)
    other = sampler.generate(16, 20, seed=6)
    np.testing.assert_array_equal(first.tokens, again.tokens)
    assert not np.array_equal(first.tokens, other.tokens)
    # Rows of one batch are independent draws.
    assert len({tuple(row) for row in first.tokens}) > 1


def test_log_probs_equal_teacher_forced_model_scores():
    model, step_input, cells, head = _language_model(LSTM, conditioned=False)
    sampler = RecurrentSampler(cells, step_input, head, start_id=START)
    result = sampler.generate(4, 9, temperature=1.3, seed=2)
    previous = np.concatenate([np.full((4, 1), START), result.tokens[:, :-1]], axis=1)
    log_softmax = tf.nn.log_softmax(model([previous])).numpy()
    expected = np.take_along_axis(log_softmax, result.tokens[..., None], axis=-1)[..., 0].sum(1)
    np.testing.assert_allclose(result.log_probs, expected, rtol=1e-4, atol=1e-4)


def test_end_symbol_stops_sequences_and_pads_the_rest():
    _, step_input, cells, head = _language_model(SimpleRNN, conditioned=False, seed=3)
    sampler = RecurrentSampler(cells, step_input, head, start_id=START, end_id=END, pad_id=0)
    # Force the end symbol at different steps through the prefix.
    prefix = np.array([[5, END, 6], [5, 6, END], [5, 6, 7]])
    result = sampler.generate(3, 6, prefix=prefix, prefix_lengths=[2, 3, 3], temperature=0.0)
    assert result.lengths.tolist()[:2] == [1, 2]
    assert result.tokens[0].tolist() == [5, END, 0, 0, 0, 0]
    assert result.tokens[1].tolist() == [5, 6, END, 0, 0, 0]
    row = result.tokens[2]
    ended = np.flatnonzero(row == END)
    if len(ended):
        assert result.lengths[2] == ended[0] and not row[ended[0] + 1 :].any()
    else:
        assert result.lengths[2] == 6
    assert result.tokens.shape == (3, 6)


def test_max_length_caps_sampling_without_an_end():
    _, step_input, cells, head = _language_model(GRU, conditioned=False)
    sampler = RecurrentSampler(cells, step_input, head, start_id=START, end_id=END)
    result = sampler.generate(8, 4, temperature=1.0, seed=0)
    assert result.tokens.shape == (8, 4)
    # A sequence ends at its end symbol, else at the cap of 4 tokens; some reach the cap.
    ends = [np.flatnonzero(row == END) for row in result.tokens]
    expected = [int(found[0]) if len(found) else 4 for found in ends]
    assert result.lengths.tolist() == expected
    assert 4 in expected


def test_top_k_one_and_tiny_top_p_are_greedy():
    _, step_input, cells, head = _language_model(LSTM, conditioned=False)
    sampler = RecurrentSampler(cells, step_input, head, start_id=START)
    greedy = sampler.generate(4, 10, temperature=0.0).tokens
    np.testing.assert_array_equal(sampler.generate(4, 10, top_k=1, seed=9).tokens, greedy)
    np.testing.assert_array_equal(sampler.generate(4, 10, top_p=1e-6, seed=9).tokens, greedy)


def test_top_k_keeps_draws_among_the_k_most_likely():
    model, step_input, cells, head = _language_model(LSTM, conditioned=False)
    sampler = RecurrentSampler(cells, step_input, head, start_id=START)
    result = sampler.generate(64, 1, top_k=2, temperature=5.0, seed=4)
    first_logits = model([np.array([[START]])]).numpy()[0, 0]
    allowed = set(np.argsort(first_logits)[-2:].tolist())
    assert set(result.tokens[:, 0].tolist()) <= allowed


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"temperature": -1.0}, "temperature"),
        ({"top_k": -2}, "top_k"),
        ({"top_p": 0.0}, "top_p"),
        ({"prefix": [3, 4, 5, 6]}, "longer than steps"),
    ],
)
def test_bad_arguments_raise_clear_errors(kwargs, message):
    _, step_input, cells, head = _language_model(GRU, conditioned=False)
    sampler = RecurrentSampler(cells, step_input, head, start_id=START)
    with pytest.raises(ValueError, match=message):
        sampler.generate(2, 3, **kwargs)


def test_tempered_group_keeps_its_total_probability():
    model, step_input, cells, head = _language_model(LSTM, conditioned=False, seed=7)
    group = [3, 4, 5, 6, 7, 8, 9, 10]
    sampler = RecurrentSampler(cells, step_input, head, start_id=START, tempered_ids=group)
    probabilities = tf.nn.softmax(model([np.array([[START]])])).numpy()[0, 0]
    group_mass = probabilities[group].sum()
    draws = sampler.generate(4000, 1, top_k=1, seed=11).tokens[:, 0]
    in_group = np.isin(draws, group)
    # Within the group only its most likely token survives top_k=1 ...
    assert set(draws[in_group].tolist()) == {group[int(np.argmax(probabilities[group]))]}
    # ... while the group as a whole is drawn as often as the model says.
    assert abs(in_group.mean() - group_mass) < 4 * np.sqrt(group_mass * (1 - group_mass) / 4000)
    outside = draws[~in_group]
    for token in set(range(VOCAB)) - set(group):
        expected = probabilities[token] / (1 - group_mass)
        assert abs(np.mean(outside == token) - expected) < 0.05


GROUP = [3, 4, 5, 6, 7, 8, 9, 10]


def _logits_per_step(rows):
    """Log-probabilities of the 11 tokens, one row per step, from `{token: p}` dicts."""
    table = np.full((len(rows), VOCAB), 1e-6)
    for row, probabilities in zip(table, rows):
        for token, p in probabilities.items():
            row[token] = p
    return np.log(table / table.sum(-1, keepdims=True)).astype("float32")


def _fixed_head_sampler(**kwargs):
    """A sampler whose logits at step t are row t of its conditions (the head reads the
    step's inputs through `head_sees_inputs` and ignores the cell)."""
    cell = SimpleRNN(4).cell
    return RecurrentSampler(
        [cell],
        step_input=lambda tokens, condition, step: condition,
        head=lambda outputs: outputs[:, -VOCAB:],
        start_id=START,
        head_sees_inputs=True,
        **kwargs,
    )


def test_greedy_with_a_tempered_group_decides_group_or_rest_by_their_masses():
    spread = {token: 0.75 / 8 for token in GROUP} | {5: 0.1, 6: 0.05}  # group 0.8, top 5
    rows = [
        spread | {0: 0.2},  # a plain argmax picks 0 (0.2), but the group holds 0.8
        {0: 0.6, 9: 0.3, 10: 0.1},  # rest 0.6 > group 0.4
        {0: 0.21, 1: 0.19, 2: 0.15, 7: 0.3, 8: 0.15},  # rest 0.55: its top, though 7 is larger
        {2: 0.45, 4: 0.3, 5: 0.25},  # group 0.55 > rest 0.45, though 2 is the likeliest
    ]
    logits = _logits_per_step(rows)
    assert np.argmax(logits, -1).tolist() == [0, 0, 7, 2]
    expected = [5, 0, 0, 4]
    sampler = _fixed_head_sampler(tempered_ids=GROUP)
    for jit in (False, True):
        result = sampler.generate(2, 4, conditions=logits, temperature=0.0, jit=jit)
        assert result.tokens.tolist() == [expected, expected]
        # Log-probabilities stay the model's own.
        own = logits[np.arange(4), expected].sum()
        np.testing.assert_allclose(result.log_probs, [own, own], rtol=1e-5)
    # Without a group, greedy is the plain argmax.
    plain = _fixed_head_sampler().generate(1, 4, conditions=logits, temperature=0.0)
    assert plain.tokens[0].tolist() == np.argmax(logits, -1).tolist()


def test_greedy_is_the_likeliest_outcome_of_tempered_sampling():
    """Sampling draws the group with its untempered mass and, cold, its top token inside."""
    logits = _logits_per_step([{token: 0.75 / 8 for token in GROUP} | {5: 0.1, 6: 0.05, 0: 0.2}])
    sampler = _fixed_head_sampler(tempered_ids=GROUP)
    draws = sampler.generate(2000, 1, conditions=logits, temperature=0.05, seed=3).tokens[:, 0]
    values, counts = np.unique(draws, return_counts=True)
    greedy = sampler.generate(1, 1, conditions=logits, temperature=0.0).tokens[0, 0]
    assert values[np.argmax(counts)] == greedy == 5
    assert abs(np.isin(draws, GROUP).mean() - 0.8) < 0.04
