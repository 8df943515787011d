"""Text helpers shared by the text applications: tokenization and word vectors.

`standardize` is the tokenizer that runs *inside* the models (a TensorFlow
function, so SavedModels carry it): it lower-cases and splits off punctuation
and English clitics the way the Penn Treebank does ("don't" -> "do n't",
"film's" -> "film 's"), which is how SST and CoNLL text is tokenized.
"""

import collections
import gzip
from pathlib import Path

import keras
import numpy as np

from seqapps.errors import UserError

PAD, OOV = "", "[UNK]"


@keras.saving.register_keras_serializable(package="seqapps", name="standardize")
def standardize(text):
    """Lower-case and space out punctuation and clitics (TensorFlow string op).

    Args:
        text: String tensor of any shape.

    Returns:
        String tensor of the same shape whose whitespace-separated pieces are
        the tokens.
    """
    import tensorflow as tf

    text = tf.strings.lower(text, encoding="utf-8")
    text = tf.strings.regex_replace(text, r"n't\b", " n't ")
    text = tf.strings.regex_replace(text, r"'(s|re|ve|ll|d|m)\b", " '\\1 ")
    # Split off every character that is not a letter, digit, apostrophe or
    # inner hyphen; keep "..." together.
    text = tf.strings.regex_replace(
        text, r"(\.\.\.|[^\p{L}\p{N}\s'\-]|(?:^|\s)-+|-+(?:\s|$))", " \\1 "
    )
    return tf.strings.strip(tf.strings.regex_replace(text, r"\s+", " "))


def tokenize(texts, batch_size=4096):
    """Tokens of each text, as `standardize` + whitespace split give them in the model."""
    import tensorflow as tf

    result = []
    for start in range(0, len(texts), batch_size):
        chunk = tf.constant(list(texts[start : start + batch_size]))
        pieces = tf.strings.split(standardize(chunk)).to_list()
        result.extend([token.decode("utf-8") for token in row] for row in pieces)
    return result


def build_vocabulary(token_lists, max_size=None, min_count=1):
    """Words by descending count (ties alphabetical), without padding/OOV entries."""
    counts = collections.Counter(token for tokens in token_lists for token in tokens)
    words = sorted(
        (w for w, c in counts.items() if c >= min_count and w not in (PAD, OOV)),
        key=lambda w: (-counts[w], w),
    )
    return words[:max_size] if max_size else words


def _open_text(path):
    path = Path(path)
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    return path.open(encoding="utf-8")


def load_word_vectors(path, vocabulary, dim=None, lowercase=True):
    """Read GloVe or word2vec *text* vectors for the words of `vocabulary`.

    GloVe files are `word v1 ... vd` per line; word2vec text files start with a
    `count dim` header line. Words are matched as given, then lower-cased.

    Args:
        path: The vector file (`.txt`, or `.gz` of it).
        vocabulary: List of words; row i of the result is word i.
        dim: Expected dimension (checked); inferred from the file if None.
        lowercase: Also match lower-cased file words.

    Returns:
        `(matrix, found)`: a float32 `(len(vocabulary), dim)` matrix with the
        vectors of the words found (others random normal, scaled like the
        found vectors) and the number of words found.

    Raises:
        UserError: Missing file, undecodable bytes, a line with the wrong
            number of values, or a dimension different from `dim`.
    """
    index = {word: i for i, word in enumerate(vocabulary)}
    rows, vectors = [], []
    path = Path(path)
    if not path.is_file():
        raise UserError(f"--embeddings {path}: no such file")
    try:
        with _open_text(path) as handle:
            for line_number, line in enumerate(handle, start=1):
                parts = line.rstrip("\n").rstrip(" ").split(" ")
                if line_number == 1 and len(parts) == 2 and all(p.isdigit() for p in parts):
                    dim = dim or int(parts[1])
                    if int(parts[1]) != dim:
                        raise UserError(
                            f"{path}:1: vectors have dimension {parts[1]}, expected {dim}"
                        )
                    continue
                if len(parts) < 2:
                    continue
                if dim is None:
                    dim = len(parts) - 1
                if len(parts) - 1 != dim:
                    raise UserError(
                        f"{path}:{line_number}: expected a word and {dim} values, "
                        f"found {len(parts) - 1} values"
                    )
                word = parts[0]
                row = index.get(word)
                if row is None and lowercase:
                    row = index.get(word.lower())
                if row is None:
                    continue
                try:
                    vector = np.asarray(parts[1:], dtype="float32")
                except ValueError as error:
                    raise UserError(f"{path}:{line_number}: not a number ({error})") from error
                if not np.isfinite(vector).all():
                    raise UserError(f"{path}:{line_number}: vector of {word!r} is not finite")
                vectors.append(vector)
                rows.append(row)
    except UnicodeDecodeError as error:
        raise UserError(f"{path}: not UTF-8 text ({error})") from error
    if dim is None:
        raise UserError(f"{path}: no vectors found")
    rng = np.random.default_rng(0)
    scale = float(np.std(vectors)) if vectors else 0.1
    matrix = rng.normal(scale=scale, size=(len(vocabulary), dim)).astype("float32")
    found = set()
    for row, vector in zip(rows, vectors):
        if row not in found:  # the first, usually exact-case, match wins
            matrix[row] = vector
            found.add(row)
    return matrix, len(found)
