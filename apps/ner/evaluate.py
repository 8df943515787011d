"""Evaluate a trained NER model on labelled data with CoNLL's entity-level rules.

An entity counts as found only if the prediction has the same type and exactly the same
tokens (`seqapps.tagging.entity_scores`; both sides converted to IOB2, so this equals
seqeval's strict IOB2 mode and conlleval). Prints one JSON object on stdout (micro
precision, recall and F1, per-type scores, counts, token accuracy) and a conlleval-like
report on stderr. --conll-out writes `token gold predicted` lines (IOB2, a blank line
between sentences) that the official conlleval script reads.

Example:
  python -m apps.ner.evaluate --model runs/conll --data ../shared/data/conll2003/eng.testa \\
      --conll-out runs/conll/testa.conll
"""

import json
import sys

from apps.ner import data as ner_data
from seqapps import tagging
from seqapps.cli import UserError, make_parser, positive_int, require, run_main


def evaluate_corpus(model, corpus, batch_size=64, conll_out=None):
    """Entity scores of `model` on a loaded `Corpus` (with tags)."""
    from apps.ner.model import describe
    from apps.ner.predict import tag_sentences

    known = {tagging.split_tag(tag)[1] for tag in describe(model)["tags"]} - {None}
    unseen = sorted(set(corpus.entity_types()) - known)
    if unseen:
        raise UserError(
            f"{corpus.source}: entity type(s) {unseen} were never seen by the model "
            f"(it knows {sorted(known)})"
        )
    gold = corpus.converted("IOB2")
    predicted = [r["tags"] for r in tag_sentences(model, corpus.sentences, batch_size)]
    scores = tagging.entity_scores(gold, predicted)
    scores["data"] = corpus.source
    scores["data_scheme"] = corpus.scheme
    if conll_out:
        from seqapps.files import write_text

        lines = []
        for tokens, gold_tags, predicted_tags in zip(corpus.sentences, gold, predicted):
            lines += [f"{t} {g} {p}" for t, g, p in zip(tokens, gold_tags, predicted_tags)]
            lines.append("")
        write_text(conll_out, "\n".join(lines) + "\n")
    return scores


def evaluate_file(
    model,
    path,
    word_col=None,
    tag_col=None,
    sentence_col=None,
    scheme=None,
    lenient=False,
    batch_size=64,
    conll_out=None,
):
    """Entity scores of `model` on a labelled file (any format `train` reads)."""
    corpus = ner_data.load(path, word_col, tag_col, sentence_col, scheme, lenient)
    if corpus.repairs:
        print(f"{corpus.source}: repaired {corpus.repairs} tag(s) (--lenient)", file=sys.stderr)
    return evaluate_corpus(model, corpus, batch_size, conll_out)


def build_parser():
    from apps.ner.train import add_data_arguments

    parser = make_parser("apps.ner.evaluate", __doc__)
    parser.add_argument("--model", help="run directory or .keras file")
    parser.add_argument("--data", help="labelled data: a CoNLL file or a CSV/TSV/JSONL table")
    parser.add_argument(
        "--conll-out", help="write `token gold predicted` lines for conlleval to this file"
    )
    parser.add_argument("--batch-size", type=positive_int, default=64, help="sentences per batch")
    add_data_arguments(parser)
    return parser


def main(argv):
    from seqapps.export import load_model

    options = build_parser().parse_args(argv)
    require(options, "model", "data")
    corpus = ner_data.load(
        options.data,
        options.word_col,
        options.tag_col,
        options.sentence_col,
        options.scheme,
        options.lenient,
    )
    if corpus.repairs:
        print(f"{corpus.source}: repaired {corpus.repairs} tag(s) (--lenient)", file=sys.stderr)
    model = load_model(options.model, app="ner")
    scores = evaluate_corpus(model, corpus, options.batch_size, options.conll_out)
    print(tagging.format_scores(scores), file=sys.stderr)
    if options.conll_out:
        print(f"Wrote {options.conll_out}", file=sys.stderr)
    print(json.dumps(scores))


if __name__ == "__main__":
    run_main(main, prog="apps.ner.evaluate")
