"""Predict the sentiment of texts with a trained model.

Inputs come as arguments, from --input FILE (one text per line, or the
--text-col column of a CSV/TSV/JSONL file), or one per line on stdin. Empty
texts are valid inputs. Without --model the app's default preset, sst2, is
used, and stderr says so.

Examples:
  python -m apps.sentiment.predict "A gorgeous, witty film." "Dull."
  python -m apps.sentiment.predict --model sst5 --input reviews.csv --text-col review \\
      --format jsonl --output predictions.jsonl
  python -m apps.sentiment.predict --model sst5 --classes 2 "A gorgeous, witty film."
"""

from apps.sentiment.data import add_classes_argument
from seqapps.cli import make_parser, positive_int, run_main
from seqapps.presets import default_model
from seqapps.text.tables import add_input_arguments, read_inputs, write_records


def build_parser():
    parser = make_parser("apps.sentiment.predict", __doc__)
    add_input_arguments(
        parser, "texts to classify", "file of inputs: lines, or a CSV/TSV/JSONL table"
    )
    parser.add_argument(
        "--format", choices=("table", "jsonl", "csv"), default="table", help="output format"
    )
    parser.add_argument("--output", help="write to this file instead of stdout")
    add_classes_argument(parser)
    parser.add_argument("--batch-size", type=positive_int, default=256, help="texts per batch")
    return parser


def main(argv):
    from apps.sentiment.classify import output_columns, predict_texts
    from seqapps.export import load_model

    options = build_parser().parse_args(argv)
    options.model = options.model or default_model("sentiment", "apps.sentiment.predict")
    texts = read_inputs(options.texts, options.input, options.text_col)
    model = load_model(options.model, app="sentiment")
    records = predict_texts(model, texts, options.batch_size, options.classes)
    columns = output_columns(records, options.format)
    write_records(records, columns, options.format, options.output)


if __name__ == "__main__":
    run_main(main, prog="apps.sentiment.predict")
