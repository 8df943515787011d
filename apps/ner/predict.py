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
--output-scheme says otherwise. Without --model the app's default preset, conll03, is used,
and stderr says so.

Examples:
  python -m apps.ner.predict "Angela Merkel met Emmanuel Macron in Paris."
  python -m apps.ner.predict --model conll03 --input news.txt --format jsonl
  python -m apps.ner.predict --model wnut17 --tokenized --input tokens.conll > tagged.conll
"""

import argparse
import sys

from apps.ner import tagger
from apps.ner.options import add_data_arguments, read_tokenized
from seqapps.cli import make_parser, positive_int, run_main
from seqapps.errors import UserError
from seqapps.presets import default_model
from seqapps.text.tables import add_input_arguments, read_inputs


def build_parser():
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


def main(argv):
    from seqapps.export import load_model
    from seqapps.files import write_text

    options = build_parser().parse_args(argv)
    options.model = options.model or default_model("ner", "apps.ner.predict")
    output_format = options.format or ("conll" if options.tokenized else "table")
    if options.tokenized:
        corpus = read_tokenized(options)
    else:
        if output_format == "conll":
            raise UserError("--format conll needs --tokenized input")
        texts = read_inputs(options.texts, options.input, options.text_col)
    model = load_model(options.model, app="ner")
    scheme = options.output_scheme
    if options.tokenized:
        records = tagger.predict_tokens(model, corpus.sentences, options.batch_size, scheme)
    else:
        records = tagger.predict_texts(model, texts, options.batch_size, scheme)
    text = tagger.format_records(records, output_format, corpus if options.tokenized else None)
    if options.output:
        write_text(options.output, text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    run_main(main, prog="apps.ner.predict")
