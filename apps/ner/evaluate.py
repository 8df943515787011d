"""Evaluate a trained NER model on labelled data with CoNLL's entity-level rules.

An entity counts as found only if the prediction has the same type and exactly the same
tokens (`seqapps.text.tagging.entity_scores`; both sides converted to IOB2, so this equals
seqeval's strict IOB2 mode and conlleval). Prints one JSON object on stdout (micro
precision, recall and F1, per-type scores, counts, token accuracy) and a conlleval-like
report on stderr. --conll-out writes `token gold predicted` lines (IOB2, a blank line
between sentences) that the official conlleval script reads.

Example:
  python -m apps.ner.evaluate --model conll03 --data data/conll2003/eng.testa \\
      --conll-out testa.conll

data/conll2003/eng.testa: the CoNLL-2003 English dev split, built with the script of
https://www.clips.uantwerpen.be/conll2003/ner/ from the Reuters RCV1 corpus (research use only).
"""

import json
import sys

from apps.ner.data import report_repairs
from apps.ner.options import add_data_arguments, load_corpus
from seqapps.cli import make_parser, positive_int, require, run_main


def build_parser():
    parser = make_parser("apps.ner.evaluate", __doc__)
    parser.add_argument("--model", help="run directory, .keras file or preset name")
    parser.add_argument("--data", help="labelled data: a CoNLL file or a CSV/TSV/JSONL table")
    parser.add_argument(
        "--conll-out", help="write `token gold predicted` lines for conlleval to this file"
    )
    parser.add_argument("--batch-size", type=positive_int, default=64, help="sentences per batch")
    add_data_arguments(parser)
    return parser


def main(argv):
    from apps.ner.evaluation import evaluate_corpus
    from seqapps.export import load_model
    from seqapps.text import tagging

    options = build_parser().parse_args(argv)
    require(options, "model", "data")
    corpus = load_corpus(options.data, options)
    report_repairs(corpus)
    model = load_model(options.model, app="ner")
    scores = evaluate_corpus(model, corpus, options.batch_size, options.conll_out)
    print(tagging.format_scores(scores), file=sys.stderr)
    if options.conll_out:
        print(f"Wrote {options.conll_out}", file=sys.stderr)
    print(json.dumps(scores))


if __name__ == "__main__":
    run_main(main, prog="apps.ner.evaluate")
