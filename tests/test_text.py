"""The in-model tokenizer and the word-vector reader."""

import numpy as np
import pytest

from seqapps.errors import UserError
from seqapps.text.words import build_vocabulary, load_word_vectors, tokenize


def test_tokenizer_matches_treebank_conventions():
    assert tokenize(["Don't stop; it's GREAT..."]) == [
        ["do", "n't", "stop", ";", "it", "'s", "great", "..."]
    ]
    assert tokenize(["The 21st-century film (2002) costs $5!"]) == [
        ["the", "21st-century", "film", "(", "2002", ")", "costs", "$", "5", "!"]
    ]
    assert tokenize(["Ça  va -- très bien", ""]) == [["ça", "va", "--", "très", "bien"], []]


def test_sst_text_tokenizes_to_its_own_tokens():
    sentence = "It does n't work , and the hero 's lines are dull ... really ."
    assert tokenize([sentence])[0] == sentence.lower().split(" ")


def test_vocabulary_order():
    assert build_vocabulary([["b", "a", "b"], ["c", "a", "b"]]) == ["b", "a", "c"]
    assert build_vocabulary([["b", "a", "b"], ["c"]], min_count=2) == ["b"]
    assert build_vocabulary([["b", "a", "b", "a"], ["c", "b"]], max_size=1) == ["b"]


def test_glove_and_word2vec_text_files(tmp_path):
    glove = tmp_path / "glove.txt"
    glove.write_text("the 0.1 0.2 0.3\nGood 1 2 3\nunused 9 9 9\n")
    matrix, found = load_word_vectors(glove, ["", "[UNK]", "the", "good", "rare"])
    assert found == 2 and matrix.shape == (5, 3)
    np.testing.assert_allclose(matrix[2], [0.1, 0.2, 0.3])
    np.testing.assert_allclose(matrix[3], [1, 2, 3])
    word2vec = tmp_path / "w2v.txt"
    word2vec.write_text("2 2\nthe 1 1\ngood 2 2\n")
    matrix, found = load_word_vectors(word2vec, ["the", "good", "x"])
    assert found == 2 and matrix.shape == (3, 2)


def test_bad_vector_file_names_the_line(tmp_path):
    path = tmp_path / "v.txt"
    path.write_text("the 0.1 0.2\nbad 0.3\n")
    with pytest.raises(UserError, match=r"v.txt:2: expected a word and 2 values, found 1"):
        load_word_vectors(path, ["the", "bad"])
