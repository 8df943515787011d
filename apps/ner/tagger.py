"""Tagging with a loaded end-to-end NER model: token lists or raw texts in, tags out.

`tag_sentences` tags token lists; `predict_texts` and `predict_tokens` also locate the
entities and return one record per sentence: `text`, `tokens`, `tags`, `scores` (each
tag's probability) and `entities`, a list of `{text, type, start, end, score}` where
`text[start:end]` is the entity and `score` the mean probability of its tags (CRF
marginals, or softmax probabilities). `format_records` writes records out as a table,
JSON lines or CoNLL.
"""

import numpy as np

from seqapps.errors import UserError
from seqapps.text import tagging
from seqapps.text.tables import printable


def _call(model):
    """A compiled `model(tokens)` for any batch shape, cached on the model."""
    import tensorflow as tf

    if getattr(model, "_ner_call", None) is None:
        model._ner_call = tf.function(
            lambda tokens: model(tokens, training=False),
            input_signature=[tf.TensorSpec([None, None], tf.string)],
        )
    return model._ner_call


def tag_sentences(model, sentences, batch_size=64, scheme="IOB2"):
    """Tag tokenized sentences.

    Args:
        model: An end-to-end NER model (`apps.ner.load`).
        sentences: List of token lists (tokens are non-empty strings).
        batch_size: Sentences per model call (sorted by length to limit padding).
        scheme: Scheme of the returned tags (`"IOB2"`, `"IOB1"` or `"BIOES"`).

    Returns:
        One dict per sentence: `tags` (list of str) and `scores` (the probability of each
        tag the model chose: its CRF marginal or softmax probability).
    """
    import tensorflow as tf

    from apps.ner.model import describe

    tag_names = describe(model)["tags"]
    scheme = tagging.scheme_name(scheme)
    results = [{"tags": [], "scores": []} for _ in sentences]
    order = [i for i in np.argsort([len(s) for s in sentences], kind="stable") if sentences[i]]
    call = _call(model)
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        longest = max(len(sentences[i]) for i in chunk)
        padded = []
        for i in chunk:
            tokens = [str(token) for token in sentences[i]]
            if any(not token for token in tokens):
                raise UserError(f"sentence {i + 1}: empty token (tokens must be non-empty)")
            padded.append(tokens + [""] * (longest - len(tokens)))
        outputs = call(tf.constant(padded))
        tag_ids = outputs["tag_ids"].numpy()
        probabilities = outputs["probabilities"].numpy()
        for row, i in enumerate(chunk):
            n = len(sentences[i])
            ids = tag_ids[row, :n]
            internal = [tag_names[t] for t in ids]
            results[i] = {
                "tags": tagging.convert(internal, scheme),
                "scores": probabilities[row, np.arange(n), ids].astype(float).tolist(),
            }
    return results


def entities(text, offsets, tags, scores):
    """Entity dicts `{text, type, start, end, score}` from IOB-family tags and token offsets."""
    found = []
    for entity_type, first, end in tagging.spans(tags):
        start, stop = offsets[first][0], offsets[end - 1][1]
        found.append(
            {
                "text": text[start:stop],
                "type": entity_type,
                "start": start,
                "end": stop,
                "score": float(np.mean(scores[first:end])),
            }
        )
    return found


def _records(texts, token_offsets, tagged):
    records = []
    for text, offsets, result in zip(texts, token_offsets, tagged):
        records.append(
            {
                "text": text,
                "tokens": [text[a:b] for a, b in offsets],
                "tags": result["tags"],
                "scores": result["scores"],
                "entities": entities(text, offsets, result["tags"], result["scores"]),
            }
        )
    return records


def predict_texts(model, texts, batch_size=64, scheme="IOB2"):
    """Tokenize (`apps.ner.data.tokenize`) and tag raw texts; one record per text.

    Each text is tagged as one sequence, however long; an empty text has no tokens.
    """
    from apps.ner.data import tokenize

    texts = ["" if text is None else str(text) for text in texts]
    tokenized = [tokenize(text) for text in texts]
    offsets = [[(a, b) for _, a, b in tokens] for tokens in tokenized]
    tagged = tag_sentences(
        model, [[t for t, _, _ in tokens] for tokens in tokenized], batch_size, scheme
    )
    return _records(texts, offsets, tagged)


def predict_tokens(model, sentences, batch_size=64, scheme="IOB2"):
    """Tag pre-tokenized sentences; records as `predict_texts`, text = tokens joined by spaces."""
    texts, offsets = [], []
    for tokens in sentences:
        spans, position = [], 0
        for token in tokens:
            spans.append((position, position + len(token)))
            position += len(token) + 1
        texts.append(" ".join(tokens))
        offsets.append(spans)
    return _records(texts, offsets, tag_sentences(model, sentences, batch_size, scheme))


def marked_text(record):
    """The text with each entity written `[text TYPE]`."""
    text, pieces, position = record["text"], [], 0
    for entity in record["entities"]:
        pieces.append(text[position : entity["start"]])
        pieces.append(f"[{entity['text']} {entity['type']}]")
        position = entity["end"]
    pieces.append(text[position:])
    return "".join(pieces)


def conll_lines(corpus, records):
    """The rows of `corpus` (or the bare tokens) with each predicted tag as a last column.

    A blank line ends each sentence; the result is one string, "" without sentences.
    """
    lines = []
    for index, record in enumerate(records):
        rows = corpus.rows[index] if corpus.rows else [[token] for token in record["tokens"]]
        for fields, tag in zip(rows, record["tags"]):
            lines.append(corpus.separator.join([*fields, tag]))
        lines.append("")
    return "\n".join(lines) + ("\n" if lines else "")


def format_records(records, output_format, corpus=None):
    """Records as text: `table` (one `marked_text` line each), `jsonl`, or `conll`.

    `conll` needs the `corpus` the records were tagged from (`conll_lines`).
    """
    if output_format == "conll":
        return conll_lines(corpus, records)
    if output_format == "jsonl":
        import json

        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    return "".join(printable(marked_text(r)) + "\n" for r in records)
