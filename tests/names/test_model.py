"""Scoring, sampling and beam search of a trained tiny model."""

import numpy as np
import pytest

from apps import names
from apps.names.model import make_sampler, vocabulary_of
from seqapps.layers import CharVocabulary
from seqapps.training import TrainingConfig


def _by_hand(model, text):
    """Sum of log-softmax values, one model call per prefix, end symbol included."""
    vocabulary = vocabulary_of(model)
    ids = vocabulary.encode(text)
    targets = [*ids, CharVocabulary.BOUNDARY_ID]
    steps = []
    for position, target in enumerate(targets):
        inputs = np.array([[CharVocabulary.BOUNDARY_ID, *ids[:position]]], "int32")
        logits = np.asarray(model(inputs, training=False), "float64")[0, -1]
        log_softmax = logits - np.log(np.exp(logits - logits.max()).sum()) - logits.max()
        steps.append(log_softmax[target])
    return steps


@pytest.mark.slow
def test_scores_equal_the_sum_of_per_step_log_softmax(model):
    texts = ["Alraptor", "Jutimimus", "Q", ""]
    records = names.score_strings(model, texts)
    for text, record in zip(texts, records):
        steps = _by_hand(model, text)
        assert record["log_prob"] == pytest.approx(sum(steps), abs=1e-4)
        assert [c for c, _ in record["characters"]] == [*text, "<end>"]
        assert [v for _, v in record["characters"]] == pytest.approx(steps, abs=1e-5)
    assert records[2]["unknown"] == ["Q"] and records[3]["characters"][0][0] == "<end>"


@pytest.mark.slow
def test_greedy_equals_beam_search_with_beam_one(model):
    for prefix in ("", "Br", "Ky"):
        greedy = names.sample_names(model, count=5, temperature=0, prefix=prefix, seed=3)
        beam = names.beam_names(model, beam=1, prefix=prefix)
        assert len(greedy) == 1 and len(beam) == 1
        assert greedy[0]["sample"] == beam[0]["sample"] and greedy[0]["sample"].startswith(prefix)
        assert greedy[0]["log_prob"] == pytest.approx(beam[0]["log_prob"], abs=1e-5)


@pytest.mark.slow
def test_beams_are_distinct_best_first_and_scored_like_forced_samples(model):
    beams = names.beam_names(model, beam=4, prefix="Ha")
    assert len(beams) == 4 and len({b["sample"] for b in beams}) == 4
    log_probs = [b["log_prob"] for b in beams]
    assert log_probs == sorted(log_probs, reverse=True)
    vocabulary = vocabulary_of(model)
    sampler = make_sampler(model)
    for beam in beams:
        forced = [*vocabulary.encode(beam["sample"]), CharVocabulary.BOUNDARY_ID]
        result = sampler.generate(1, 40, prefix=np.array(forced, "int32"))
        assert result.log_probs[0] == pytest.approx(beam["log_prob"], abs=1e-4)
    # Greedy decoding's name is the best single beam.
    greedy = names.beam_names(model, beam=1, prefix="Ha")[0]
    assert beams[0]["log_prob"] >= greedy["log_prob"] - 1e-5


@pytest.mark.slow
def test_a_seed_reproduces_samples(model):
    first = names.sample_names(model, count=12, temperature=1.0, seed=7)
    again = names.sample_names(model, count=12, temperature=1.0, seed=7)
    other = names.sample_names(model, count=12, temperature=1.0, seed=8)
    assert first == again
    assert [r["sample"] for r in first] != [r["sample"] for r in other]
    nucleus = names.sample_names(model, count=12, temperature=0.7, top_k=3, top_p=0.9, seed=7)
    assert nucleus == names.sample_names(model, 12, 0.7, top_k=3, top_p=0.9, seed=7)


@pytest.mark.slow
def test_sampler_stops_at_the_end_symbol_and_the_length_limit(model):
    sampler = make_sampler(model)
    result = sampler.generate(64, 30, temperature=1.5, seed=2)
    ended = result.lengths < 30
    assert ended.any()
    for row, length, finished in zip(result.tokens, result.lengths, ended):
        assert CharVocabulary.BOUNDARY_ID not in row[:length]
        assert (row[:length] >= CharVocabulary.RESERVED).all()  # no padding or unknown sampled
        if finished:
            assert row[length] == CharVocabulary.BOUNDARY_ID
            assert (row[length + 1 :] == CharVocabulary.PAD_ID).all()
    short = names.sample_names(model, count=32, temperature=1.0, max_len=4, seed=2)
    assert all(r["length"] <= 4 for r in short)
    assert all(r["ended"] == (r["length"] < 4) for r in short)
    assert any(not r["ended"] for r in short)


@pytest.mark.slow
def test_samples_are_marked_new_or_seen(model, trained_run):
    from apps.names import data as names_data

    reference, note = names_data.training_reference(trained_run)
    assert note == "" and len(reference.corpus.strings) > 100
    records = names.sample_names(model, count=200, temperature=0.5, seed=1, reference=reference)
    marks = {r["novelty"] for r in records}
    assert marks <= {"new", "in training data"}
    for record in records:
        assert (record["novelty"] == "in training data") == (
            record["sample"] in reference.corpus.strings
        )
    assert "in training data" in marks  # a model of 160 names often repeats one at 0.5


def test_running_text_models_score_without_an_end_symbol_and_sample_to_the_limit():
    from apps.names.model import build_core
    from apps.names.train import build_parser

    options = build_parser().parse_args(["--units", "8", "--embedding-dim", "4", "--seed", "3"])
    vocabulary = CharVocabulary(list("ab \n"), terminated=False, name="vocabulary")
    untrained = build_core(vocabulary, options, TrainingConfig.from_options(options))
    [record] = names.score_strings(untrained, ["ab a\n"])
    assert [c for c, _ in record["characters"]] == list("ab a\n")
    ids = vocabulary.encode("ab a\n")
    by_hand = 0.0
    for position, target in enumerate(ids):
        inputs = np.array([[CharVocabulary.BOUNDARY_ID, *ids[:position]]], "int32")
        logits = np.asarray(untrained(inputs), "float64")[0, -1]
        by_hand += logits[target] - np.log(np.exp(logits).sum())
    assert record["log_prob"] == pytest.approx(by_hand, abs=1e-4)
    samples = names.sample_names(untrained, count=3, max_len=12, prefix="ab", seed=1)
    assert all(r["length"] == 12 and not r["ended"] for r in samples)
    assert all(r["sample"].startswith("ab") for r in samples)


def test_input_skip_models_sample_beam_and_score_like_the_keras_model(tmp_path):
    import keras

    from apps.names.model import build_core, has_input_skip
    from apps.names.train import build_parser
    from seqapps.export import load_model

    options = build_parser().parse_args(
        ["--units", "8", "--embedding-dim", "4", "--seed", "3", "--input-skip"]
    )
    vocabulary = CharVocabulary(list("abcd"), name="vocabulary")
    built = build_core(vocabulary, options, TrainingConfig.from_options(options))
    built.save(tmp_path / "model.keras")
    untrained = load_model(str(tmp_path / "model.keras"))
    assert has_input_skip(untrained) and make_sampler(untrained).head_sees_inputs
    assert isinstance(untrained.get_layer("input_skip"), keras.layers.Concatenate)
    for text in ("abca", "d", ""):
        [record] = names.score_strings(untrained, [text])
        assert record["log_prob"] == pytest.approx(sum(_by_hand(untrained, text)), abs=1e-4)
    greedy = names.sample_names(untrained, count=1, temperature=0, prefix="a", max_len=12)
    beam = names.beam_names(untrained, beam=1, prefix="a", max_len=12)
    assert greedy[0]["sample"] == beam[0]["sample"]
    assert greedy[0]["log_prob"] == pytest.approx(beam[0]["log_prob"], abs=1e-5)
    # The sampler's step logits are the Keras model's, character by character.
    sampler = make_sampler(untrained)
    ids = [CharVocabulary.BOUNDARY_ID, *vocabulary.encode("abcad")]
    expected = np.asarray(untrained(np.array([ids], "int32")), "float64")[0]
    states = sampler.initial_state(1)
    kept = np.arange(vocabulary.size) != CharVocabulary.PAD_ID
    kept[CharVocabulary.UNKNOWN_ID] = False
    for step, token in enumerate(ids):
        logits, states = sampler.step(np.array([token], "int32"), None, step, states)
        assert np.asarray(logits)[0, kept] == pytest.approx(expected[step, kept], abs=1e-5)


def test_plateau_goes_back_to_the_best_weights_at_a_lower_learning_rate(tmp_path):
    import types

    import keras

    from apps.names.train import build_parser
    from seqapps.training import Trainer

    options = build_parser().parse_args(["--plateau", "2", "--plateau-factor", "0.5"])
    loaded = []
    model = types.SimpleNamespace(
        optimizer=types.SimpleNamespace(learning_rate=keras.Variable(0.004)),
        load_weights=loaded.append,
        save_weights=lambda path: open(path, "wb").close(),
    )
    run_dir = types.SimpleNamespace(checkpoint_dir=tmp_path)
    trainer = Trainer(model, run_dir, options, None, None, "nll", mode="min")
    rates = []
    for epoch, value in enumerate([1.9, 1.8, 1.85, 1.81, 1.7, 1.75, 1.72], start=1):
        trainer._update_best(value, epoch, {"nll": value})
        rates.append(float(np.asarray(model.optimizer.learning_rate)))
    # Two epochs without a better value (1.85, 1.81 after 1.8; 1.75, 1.72 after 1.7) halve it.
    assert rates == pytest.approx([0.004, 0.004, 0.004, 0.002, 0.002, 0.002, 0.001])
    assert loaded == [tmp_path / "best.weights.h5"] * 2
