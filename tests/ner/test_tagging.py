"""seqapps.text.tagging: scheme detection, conversion round trips, spans, transitions, scores."""

import itertools
import random

import pytest

from seqapps.text import tagging

SCHEMES = ("IOB1", "IOB2", "BIOES")


def random_spans(rng, length, types=("PER", "LOC", "creative-work")):
    spans, position = [], 0
    while position < length:
        if rng.random() < 0.4:
            size = rng.randint(1, min(3, length - position))
            spans.append((rng.choice(types), position, position + size))
            position += size
        else:
            position += 1
    return spans


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("O", ("O", None)),
        ("B-PER", ("B", "PER")),
        ("I-creative-work", ("I", "creative-work")),
        ("B-", (None, None)),
        ("PER", (None, None)),
        ("BB-PER", (None, None)),
    ],
)
def test_split_tag(tag, expected):
    assert tagging.split_tag(tag) == expected


def test_the_three_schemes_of_one_sentence():
    # "EU rejects German call" plus two adjacent PER entities and a long LOC.
    spans = [("ORG", 0, 1), ("MISC", 2, 3), ("PER", 4, 6), ("PER", 6, 7), ("LOC", 8, 11)]
    assert tagging.from_spans(spans, 11, "IOB1") == [
        "I-ORG", "O", "I-MISC", "O", "I-PER", "I-PER", "B-PER", "O", "I-LOC", "I-LOC", "I-LOC"
    ]  # fmt: skip
    assert tagging.from_spans(spans, 11, "IOB2") == [
        "B-ORG", "O", "B-MISC", "O", "B-PER", "I-PER", "B-PER", "O", "B-LOC", "I-LOC", "I-LOC"
    ]  # fmt: skip
    assert tagging.from_spans(spans, 11, "BIOES") == [
        "S-ORG", "O", "S-MISC", "O", "B-PER", "E-PER", "S-PER", "O", "B-LOC", "I-LOC", "E-LOC"
    ]  # fmt: skip


def test_round_trips_between_all_schemes():
    rng = random.Random(0)
    for _ in range(300):
        length = rng.randint(0, 9)
        spans = random_spans(rng, length)
        for source, target in itertools.product(SCHEMES, SCHEMES):
            tags = tagging.from_spans(spans, length, source)
            assert tagging.is_valid(tags, source), (tags, source)
            assert tagging.spans(tags) == spans
            converted = tagging.convert(tags, target, source)
            assert converted == tagging.from_spans(spans, length, target)
            assert tagging.convert(converted, source) == tags


def test_detect_scheme():
    sentences = [[("PER", 0, 2), ("PER", 2, 3)], [("LOC", 1, 2)]]
    for scheme in SCHEMES:
        corpus = [tagging.from_spans(s, 4, scheme) for s in sentences]
        assert tagging.detect_scheme(corpus) == scheme
    # Without adjacent same-type entities IOB1 is still recognised by I- starts.
    assert tagging.detect_scheme([["I-ORG", "O", "I-MISC"]]) == "IOB1"
    assert tagging.detect_scheme([["O", "O"]]) == "IOB2"
    # IOB2 with one slip (I- after O) stays IOB2: B- starts entities elsewhere.
    assert tagging.detect_scheme([["B-PER", "O"], ["O", "I-LOC"]]) == "IOB2"


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        (["O", "I-PER", "I-PER"], [("PER", 1, 3)]),  # I- after O starts an entity
        (["B-PER", "I-LOC"], [("PER", 0, 1), ("LOC", 1, 2)]),  # type change
        (["B-PER", "E-PER", "I-PER"], [("PER", 0, 2), ("PER", 2, 3)]),  # E closes
        (["B-PER", "O"], [("PER", 0, 1)]),  # BIOES without E
        (["E-PER", "S-LOC", "B-ORG"], [("PER", 0, 1), ("LOC", 1, 2), ("ORG", 2, 3)]),
    ],
)
def test_lenient_reading_of_invalid_sequences(tags, expected):
    assert tagging.spans(tags) == expected


@pytest.mark.parametrize(
    ("tags", "scheme", "position", "fragment"),
    [
        (["O", "I-PER"], "IOB2", 1, "after 'O'"),
        (["I-PER"], "IOB2", 0, "at the sentence start"),
        (["B-PER"], "IOB1", 0, "B- only follows"),
        (["B-PER", "O"], "BIOES", 1, "must be followed by I-PER or E-PER"),
        (["S-PER", "E-PER"], "BIOES", 1, "must follow B- or I-"),
        (["B-PER"], "BIOES", 1, "sentence ends"),
        (["E-PER"], "IOB2", 0, "is not a IOB2 tag"),
    ],
)
def test_problems_name_the_position(tags, scheme, position, fragment):
    found = tagging.problems(tags, scheme)
    assert found and found[0][0] == position and fragment in found[0][1], found


@pytest.mark.parametrize("scheme", SCHEMES)
def test_allowed_transitions_match_validity(scheme):
    tags = tagging.tag_set(["PER", "LOC"], scheme)
    transitions, starts, ends = tagging.allowed_transitions(tags, scheme)
    for length in (1, 2, 3):
        for path in itertools.product(range(len(tags)), repeat=length):
            allowed = (
                starts[path[0]]
                and ends[path[-1]]
                and all(transitions[a][b] for a, b in zip(path, path[1:]))
            )
            assert allowed == tagging.is_valid([tags[i] for i in path], scheme), path


def test_entity_scores_equal_seqeval_strict():
    from seqeval.metrics import classification_report, f1_score
    from seqeval.scheme import IOB2

    rng = random.Random(1)
    gold, predicted = [], []
    for _ in range(200):
        length = rng.randint(1, 8)
        gold_spans = random_spans(rng, length)
        # Predictions: the gold spans, some dropped, shifted or retyped, plus noise.
        spans = []
        for entity_type, start, end in gold_spans:
            roll = rng.random()
            if roll < 0.6:
                spans.append((entity_type, start, end))
            elif roll < 0.75:
                spans.append(("LOC" if entity_type != "LOC" else "PER", start, end))
            elif roll < 0.9 and end - start > 1:
                spans.append((entity_type, start, end - 1))
        gold.append(tagging.from_spans(gold_spans, length, "IOB2"))
        predicted.append(tagging.from_spans(spans, length, "IOB2"))
    ours = tagging.entity_scores(gold, predicted)
    theirs = classification_report(gold, predicted, mode="strict", scheme=IOB2, output_dict=True)
    assert ours["f1"] == pytest.approx(f1_score(gold, predicted, mode="strict", scheme=IOB2))
    assert ours["precision"] == pytest.approx(theirs["micro avg"]["precision"])
    assert ours["recall"] == pytest.approx(theirs["micro avg"]["recall"])
    for entity_type, row in ours["per_type"].items():
        assert row["f1"] == pytest.approx(theirs[entity_type]["f1-score"])
        assert row["support"] == theirs[entity_type]["support"]
    assert "overall" in tagging.format_scores(ours)


def test_from_spans_rejects_overlaps():
    with pytest.raises(ValueError, match="overlaps"):
        tagging.from_spans([("PER", 0, 2), ("LOC", 1, 3)], 3)
    with pytest.raises(ValueError, match="unknown tag scheme"):
        tagging.scheme_name("BILOU")


def test_entity_scores_restricted_to_some_mentions():
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O"]]
    predicted = [["B-PER", "I-PER", "O", "O"], ["B-ORG", "B-LOC"]]
    # Keep the mentions that touch token 3 of sentence 0 or token 1 of sentence 1.
    chosen = {(0, 3), (1, 1)}

    def counts_mention(index, start, end):
        return any((index, position) in chosen for position in range(start, end))

    scores = tagging.entity_scores(gold, predicted, counts_mention)
    # Gold: LOC (0, 3-4); predicted: LOC (1, 1-2); neither is found.
    assert (scores["gold_entities"], scores["predicted_entities"]) == (1, 1)
    assert scores["correct_entities"] == 0 and scores["f1"] == 0.0
    everything = tagging.entity_scores(gold, predicted, lambda *_: True)
    assert everything == tagging.entity_scores(gold, predicted)
