"""The end-to-end tagger on awkward inputs: unseen words and characters, long and empty text."""

import numpy as np
import pytest
import tensorflow as tf

from apps import ner
from apps.ner.exporting import graph_tokenize
from apps.ner.model import CASINGS, casing_classes, clip_characters, describe
from seqapps.text import tagging


@pytest.mark.slow
def test_token_features_unknown_ids_padding_and_casing(ner_model):
    features = describe(ner_model)["features"]
    tokens = tf.constant(
        [["Paris", "zzzqqq", "ПРИВЕТ", "3.5", ""], ["EU", "iPhone", "x7", ",", ""]]
    )
    word_ids, casing_ids, char_ids = (x.numpy() for x in features(tokens))
    vocabulary = ["", "[UNK]", *features.words]
    assert vocabulary[word_ids[0, 0]] == "paris"  # looked up lower-cased
    assert word_ids[0, 1] == 1 and word_ids[0, 2] == 1 and word_ids[0, 4] == 0
    # Digits are normalised to 0: the training data's "3.5" is the word "0.0", as is "7.2".
    assert vocabulary[word_ids[0, 3]] == "0.0"
    assert features(tf.constant([["7.2"]]))[0].numpy()[0, 0] == word_ids[0, 3]
    assert (char_ids[0, 2, :6] == 1).all()  # Cyrillic never seen: unknown characters
    assert not char_ids[0, 4].any() and not char_ids[1, 4].any()
    names = [[CASINGS[c] for c in row] for row in casing_ids]
    assert names == [
        ["Title", "lower", "UPPER", "numeric", "padding"],
        ["UPPER", "other", "has-digit", "punctuation", "padding"],
    ]
    assert casing_classes(tf.constant(["Éclair", "ßtraße"])).numpy().tolist() == [3, 1]


def test_long_words_keep_their_ends():
    clipped = clip_characters(tf.constant(["internationalisation", "short"]), 8).numpy()
    assert [c.decode() for c in clipped] == ["intetion", "short"]


@pytest.mark.slow
def test_longer_than_any_training_sentence_is_tagged_whole(ner_model):
    # Training sentences have at most 13 tokens.
    sentence = (["Anna", "visited", "Paris", "on", "Monday", "."] * 60)[:333]
    result = ner.tag_sentences(ner_model, [sentence, ["Lima"], []])
    assert len(result[0]["tags"]) == 333 and len(result[0]["scores"]) == 333
    assert result[0]["tags"][:3] == ["B-PER", "O", "B-LOC"]
    # Paris (at every 6th token) is found all the way to the end: nothing was cut off.
    assert [i for i, t in enumerate(result[0]["tags"]) if t == "B-LOC"][-1] == 332
    assert sum(t == "B-LOC" for t in result[0]["tags"]) >= 50
    assert all(score > 0 for score in result[0]["scores"])
    assert result[2] == {"tags": [], "scores": []}
    record = ner.predict_texts(ner_model, [" " * 5])[0]
    assert record["tokens"] == [] and record["entities"] == []


@pytest.mark.slow
def test_a_sentence_alone_equals_it_in_a_padded_batch(ner_model):
    sentences = [["Wei", "Chen", "works", "for", "Acme", "Corp", "in", "Berlin", "."], ["EU"]]
    together = ner.tag_sentences(ner_model, sentences)
    for sentence, result in zip(sentences, together):
        alone = ner.tag_sentences(ner_model, [sentence])[0]
        assert alone["tags"] == result["tags"]
        np.testing.assert_allclose(alone["scores"], result["scores"], atol=1e-5)


@pytest.mark.slow
def test_outputs_are_valid_iob2_and_entity_scores_are_token_means(ner_model):
    records = ner.predict_texts(
        ner_model, ["Olga Ivanova and Peter Brown flew to New York .", "Red Cross said so"]
    )
    for record in records:
        assert tagging.is_valid(record["tags"], "IOB2")
        for entity in record["entities"]:
            start = next(
                i for i, t in enumerate(record["tokens"]) if t == entity["text"].split()[0]
            )
            size = len(entity["text"].split())
            assert entity["score"] == pytest.approx(np.mean(record["scores"][start : start + size]))
    assert [e["text"] for e in records[0]["entities"]] == [
        "Olga Ivanova",
        "Peter Brown",
        "New York",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "EU rejects German call to boycott British lamb.",
        "Peter Blackburn said: \"I don't think Germany's firm (Acme) paid $3.5 billion.\"",
        "U.S. officials met at 12:30 p.m. on 1996-08-30, said Mr. Smith.",
        "Anglo-Dutch shares rose 1,000 points; O'Neill's team won 3-1!",
    ],
)
def test_graph_tokenizer_agrees_with_the_python_one_on_prose(text):
    ours = [token for token, _, _ in ner.tokenize(text)]
    graph = [t.decode() for t in graph_tokenize(tf.constant([text])).to_list()[0]]
    assert graph == ours
