"""Tag named entities with a trained model.

Raw text (the default): inputs come as arguments, from --input FILE (one text per line,
or the --text-col column of a CSV/TSV/JSONL table), or one per line on stdin; each text
is tokenized by `apps.ner.data.tokenize` (CoNLL-style, character offsets kept) and tagged
as one sequence, however long. Empty texts are valid and have no entities.

Pre-tokenized (--tokenized): a CoNLL file from --input or stdin (token in --word-col,
other columns kept), or arguments split on whitespace; the default output is the input
lines with the predicted tag appended as a last column, a blank line between sentences
(-DOCSTART- lines are dropped).

Output formats: `table` prints each text with its entities marked
(`[EU ORG] rejects [German MISC] call`); `jsonl` one object per sentence with `text`,
`tokens`, `tags`, `scores` (each tag's probability) and `entities`, a list of
`{text, type, start, end, score}` where `text[start:end]` is the entity and `score` the
mean probability of its tags (CRF marginals, or softmax probabilities); `conll` as above.
Pre-tokenized sentences have the text `" ".join(tokens)`. Tags are IOB2 unless
--output-scheme says otherwise.

Examples:
  python -m apps.ner.predict --model runs/conll "EU rejects German call to boycott British lamb."
  python -m apps.ner.predict --model runs/conll --input news.txt --format jsonl
  python -m apps.ner.predict --model runs/conll --tokenized --input eng.testa > tagged.conll
"""

import argparse
import sys
from pathlib import Path

import numpy as np

from seqapps import tagging
from seqapps.cli import UserError, make_parser, positive_int, require, run_main
from seqapps.tabular import add_input_arguments, is_table, printable, read_inputs, read_text_file


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
    """Tokenize and tag raw texts; one record per text (see the module docstring)."""
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


def build_parser():
    from apps.ner.train import add_data_arguments

    parser = make_parser("apps.ner.predict", __doc__)
    add_input_arguments(
        parser,
        "texts to tag (with --tokenized: token lists)",
        "file of inputs: lines, a table, or CoNLL (--tokenized)",
    )
    parser.add_argument(
        "--tokenized",
        action="store_true",
        help="inputs are already tokenized: CoNLL from --input/stdin, or whitespace-split "
        "arguments",
    )
    parser.add_argument(
        "--format",
        choices=("table", "jsonl", "conll"),
        help="output format (default: table for text, conll with --tokenized)",
    )
    parser.add_argument(
        "--output-scheme",
        choices=("iob2", "iob1", "bioes"),
        default="iob2",
        help="tag scheme of the output tags",
    )
    parser.add_argument("--output", help="write to this file instead of stdout")
    parser.add_argument("--batch-size", type=positive_int, default=64, help="sentences per batch")
    group = add_data_arguments(parser, with_scheme=False)
    group.title = "reading --tokenized input"
    for action in group._group_actions:
        if action.dest == "tag_col":  # tags are what predict writes: refused, not listed
            action.help = argparse.SUPPRESS
    group.description = "Where the tokens are in a CoNLL file or table given with --tokenized."
    return parser


def _read_tokenized(options):
    from apps.ner import data as ner_data

    if options.texts and options.input:
        raise UserError("give token lists as arguments or --input FILE, not both")
    if options.texts:
        return ner_data.Corpus([text.split() for text in options.texts], None, "arguments")
    if options.input:
        if options.tag_col:
            raise UserError("--tag-col is not read by predict (tags are predicted)")
        conll = not is_table(options.input) and Path(options.input).is_file()
        if conll and read_text_file(options.input) == "":
            return ner_data.Corpus([], None, str(options.input))  # no lines, no sentences
        return ner_data.load(
            options.input,
            word_col=options.word_col,
            sentence_col=options.sentence_col,
            with_tags=False,
        )
    if sys.stdin is None or sys.stdin.isatty():
        raise UserError("no input: give --input FILE, arguments, or pipe CoNLL lines to stdin")
    data = sys.stdin.buffer.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UserError(f"stdin: bytes that are not UTF-8 at offset {error.start}") from error
    if text == "":
        return ner_data.Corpus([], None, "stdin")
    return ner_data.parse_conll(text, "stdin", options.word_col, with_tags=False)


def _conll_lines(corpus, records):
    lines = []
    for index, record in enumerate(records):
        rows = corpus.rows[index] if corpus.rows else [[token] for token in record["tokens"]]
        for fields, tag in zip(rows, record["tags"]):
            lines.append(corpus.separator.join([*fields, tag]))
        lines.append("")
    return "\n".join(lines) + ("\n" if lines else "")


def main(argv):
    from seqapps.export import load_model
    from seqapps.files import write_text

    options = build_parser().parse_args(argv)
    require(options, "model")
    output_format = options.format or ("conll" if options.tokenized else "table")
    if options.tokenized:
        corpus = _read_tokenized(options)
    else:
        if output_format == "conll":
            raise UserError("--format conll needs --tokenized input")
        texts = read_inputs(options.texts, options.input, options.text_col)
    model = load_model(options.model, app="ner")
    scheme = options.output_scheme
    if options.tokenized:
        records = predict_tokens(model, corpus.sentences, options.batch_size, scheme)
    else:
        records = predict_texts(model, texts, options.batch_size, scheme)
    if output_format == "conll":
        text = _conll_lines(corpus, records)
    elif output_format == "jsonl":
        import json

        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    else:
        text = "".join(printable(marked_text(r)) + "\n" for r in records)
    if options.output:
        write_text(options.output, text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    run_main(main, prog="apps.ner.predict")
