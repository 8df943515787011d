"""Vocabulary, data splits and length statistics (no training)."""

import keras
import numpy as np
import pytest

from apps.names import data as names_data
from seqapps.errors import UserError
from seqapps.layers import CharVocabulary


def test_vocabulary_round_trip_and_reserved_ids():
    vocabulary = CharVocabulary(list("abcé"), name="vocabulary")
    assert vocabulary.size == 7
    ids = vocabulary.encode("cabé")
    assert min(ids) >= CharVocabulary.RESERVED
    assert vocabulary.decode(ids) == "cabé"
    # Unknown characters get their own id and show as the replacement character.
    assert vocabulary.encode("aZ")[1] == CharVocabulary.UNKNOWN_ID
    assert vocabulary.unknown_characters("aZxZ") == ["Z", "x"]
    assert vocabulary.decode([CharVocabulary.BOUNDARY_ID, *vocabulary.encode("aZ"), 0]) == "a\ufffd"


def test_vocabulary_config_round_trip_with_case_folding():
    vocabulary = CharVocabulary(list("xyz"), lowercase=True, terminated=False, name="vocabulary")
    restored = CharVocabulary.from_config(vocabulary.get_config())
    assert restored.characters == ["x", "y", "z"]
    assert restored.lowercase and not restored.terminated
    assert restored.encode("XyZ") == vocabulary.encode("xyz")
    assert restored.decode(restored.encode("XYZ")) == "xyz"


def test_vocabulary_survives_a_keras_file(tmp_path):
    inputs = keras.Input((None,), dtype="int32")
    vocabulary = CharVocabulary(list("ab\n"), name="vocabulary")
    model = keras.Model(inputs, keras.layers.Embedding(vocabulary.size, 2)(vocabulary(inputs)))
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    restored = loaded.get_layer("vocabulary")
    assert isinstance(restored, CharVocabulary) and restored.characters == ["a", "b", "\n"]


@pytest.mark.parametrize("characters", [["a", "a"], ["ab"], [""]])
def test_vocabulary_rejects_bad_characters(characters):
    with pytest.raises(ValueError, match="distinct strings of length 1"):
        CharVocabulary(characters)


def test_lines_are_stripped_deduplicated_and_split_by_seed(tmp_path):
    path = tmp_path / "names.txt"
    lines = [f"Name{i}" for i in range(50)]
    path.write_text("\n".join(lines + ["  Name3 ", "", "Name7"]) + "\n", encoding="utf-8")
    corpus = names_data.load(path)
    assert corpus.strings == lines
    train, dev = names_data.split(corpus, 0.1, seed=4)
    assert len(dev) == 5 and len(train) == 45
    assert not set(train.strings) & set(dev.strings)
    again_train, again_dev = names_data.split(corpus, 0.1, seed=4)
    assert again_dev.strings == dev.strings
    assert names_data.split(corpus, 0.1, seed=5)[1].strings != dev.strings


def test_running_text_dev_is_the_end_of_the_text(tmp_path):
    path = tmp_path / "text.txt"
    path.write_text("abcdefghij" * 10, encoding="utf-8")
    train, dev = names_data.split(names_data.load(path, "text"), 0.2, seed=1, window=5)
    assert train.text + dev.text == "abcdefghij" * 10 and len(dev.text) == 20
    assert names_data.windows("abcdefg", 3, offset=1) == ["bcd", "efg"]


def test_too_little_data_to_split(tmp_path):
    path = tmp_path / "one.txt"
    path.write_text("Onlyname\n", encoding="utf-8")
    with pytest.raises(UserError, match="too few to split off a dev set"):
        names_data.split(names_data.load(path), 0.1, seed=1)


def test_length_summary_and_ks_statistic():
    summary = names_data.length_summary([2, 4, 4, 6])
    assert summary["mean"] == 4 and summary["median"] == 4 and summary["max"] == 6
    assert names_data.ks_statistic([1, 2, 3], [1, 2, 3]) == 0
    assert names_data.ks_statistic([1, 2], [5, 6]) == 1
    rng = np.random.default_rng(0)
    close = names_data.ks_statistic(rng.normal(size=500), rng.normal(size=500))
    far = names_data.ks_statistic(rng.normal(size=500), rng.normal(1.0, size=500))
    assert close < 0.1 < far
