"""Likelihood under a names model: of strings, of a file, of a fixed set of examples.

Log-probabilities are natural logs. A line model predicts every character and
the end symbol of each line; a running-text model predicts every character
of a window after the first.
"""

import math

from seqapps.errors import UserError

END = "<end>"


class Likelihood:
    """Mean negative log-likelihood per predicted character of a fixed set of examples.

    The examples are encoded once, so the same set can be scored again and
    again (the dev set after every training epoch).
    """

    def __init__(self, vocabulary, examples):
        from apps.names.model import encode_examples

        self.pairs = encode_examples(vocabulary, examples)
        self.examples = len(self.pairs)
        self.characters = sum(len(target) for _, target in self.pairs)

    def unknown_targets(self):
        """How many target characters the vocabulary lacks (each occurrence counts)."""
        from seqapps.layers import CharVocabulary

        return sum(target.count(CharVocabulary.UNKNOWN_ID) for _, target in self.pairs)

    def __call__(self, model, batch_size=256):
        """`nll` (nats per character), `bits_per_char` and `perplexity` (e to the NLL)."""
        from apps.names.model import target_log_probs

        values = target_log_probs(model, self.pairs, batch_size)
        nll = -float(sum(v.sum() for v in values)) / self.characters
        return {"nll": nll, "bits_per_char": nll / math.log(2), "perplexity": math.exp(nll)}


def score_strings(model, strings, batch_size=256):
    """Log-probability of each string and of each of its characters.

    Returns one dict per string: `text`, `log_prob` (natural log, end symbol
    included for line models), `characters` (a list of `[character,
    log_prob]`, the end symbol shown as `"<end>"`) and `unknown` (characters
    the model never saw, scored as its unknown character).
    """
    from apps.names.model import encode_examples, target_log_probs, vocabulary_of

    vocabulary = vocabulary_of(model)
    strings = ["" if s is None else str(s) for s in strings]
    pairs = encode_examples(vocabulary, strings)
    values = target_log_probs(model, pairs, batch_size) if pairs else []
    records = []
    for text, log_probs in zip(strings, values):
        shown = list(vocabulary.normalize(text))
        if vocabulary.terminated:
            shown.append(END)
        records.append(
            {
                "text": text,
                "log_prob": float(log_probs.sum()),
                "characters": [[c, float(v)] for c, v in zip(shown, log_probs)],
                "unknown": vocabulary.unknown_characters(text),
            }
        )
    return records


def evaluate_file(model, path, window=100, batch_size=256):
    """Per-character likelihood of `model` on a file of lines (or running text).

    Returns:
        Dict with `data`, `examples`, `characters` (predicted characters, end
        symbols included), `nll` (nats per character), `bits_per_char`,
        `perplexity` and `unknown_characters` (characters of the file the model
        never saw, counted once per example; each is scored as the unknown
        character).

    Raises:
        UserError: A missing, empty or non-UTF-8 file, or a bad window.
    """
    from apps.names import data as names_data
    from apps.names.model import mode_of, vocabulary_of

    vocabulary = vocabulary_of(model)
    mode = mode_of(vocabulary)
    if mode == "text" and window < 2:
        raise UserError(f"--window must be at least 2; received {window}")
    examples = names_data.examples(names_data.load(path, mode), window)
    scored = Likelihood(vocabulary, examples)
    metrics = scored(model, batch_size)
    unknown = sum(len(vocabulary.unknown_characters(e)) for e in examples)
    return {
        "data": str(path),
        "examples": scored.examples,
        "characters": scored.characters,
        **metrics,
        "unknown_characters": unknown,
    }
