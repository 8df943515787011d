"""Sample new names (or text) from a trained character-level language model.

Sampling stops at the end symbol or at --max-len characters (the prefix
included). --temperature 0 is greedy decoding: the single most likely
character at every step, so it gives one sample. --beam K returns the K most
likely completions instead, best first, with their log-probabilities.

Each sample is marked `new` or `in training data`; the training data is found
through the run directory's config.json (without its dev split), or given with
--training-data (a preset's folder holds no training text). The share of new samples goes to
stderr; an empty sample (the end symbol first) is marked `empty` and never counts as new.
Without --model the app's default preset, dinos, is used, and stderr says so.

Examples:
  python -m apps.names.predict -n 10
  python -m apps.names.predict --model dinos -n 20 --temperature 0.8 --seed 1
  python -m apps.names.predict --model dinos --prefix Tyr --beam 5
  python -m apps.names.predict --model dinos -n 1000 --training-data dinos.txt --format jsonl \\
      --output samples.jsonl

dinos.txt: the file the preset was trained on, a list of dinosaur genus names, one per line
(from Wikipedia's list of dinosaur genera).
"""

import sys

from seqapps.cli import (
    check_flags,
    make_parser,
    non_negative_float,
    non_negative_int,
    positive_fraction,
    positive_int,
    random_seed,
    run_main,
)
from seqapps.generation.sampler import add_sampling_arguments
from seqapps.presets import default_model
from seqapps.text.tables import write_records


def build_parser():
    parser = make_parser("apps.names.predict", __doc__)
    parser.add_argument(
        "--model",
        help="run directory, .keras file or preset name (default: the app's default preset)",
    )
    parser.add_argument("-n", "--count", type=positive_int, default=20, help="number of samples")
    add_sampling_arguments(parser, unit="characters")
    check_flags(
        parser,
        temperature=non_negative_float,
        top_k=non_negative_int,
        top_p=positive_fraction,
        seed=random_seed,
    )
    parser.add_argument("--prefix", default="", help="characters every sample starts with")
    parser.add_argument(
        "--max-len",
        type=positive_int,
        default=None,
        help="most characters per sample, prefix included (default: 40 for names and lines, "
        "200 for running text)",
    )
    parser.add_argument(
        "--beam",
        type=positive_int,
        metavar="K",
        help="return the K most likely completions by beam search instead of sampling",
    )
    parser.add_argument(
        "--training-data",
        help="file to check novelty against (default: the run's training data from config.json)",
    )
    parser.add_argument("--jit", action="store_true", help="compile the sampling loop with XLA")
    parser.add_argument(
        "--format", choices=("table", "jsonl", "csv"), default="table", help="output format"
    )
    parser.add_argument("--output", help="write to this file instead of stdout")
    return parser


def main(argv):
    options = build_parser().parse_args(argv)
    from apps.names import data as names_data
    from apps.names.generate import EMPTY, beam_names, novelty_summary, sample_names
    from apps.names.model import mode_of, vocabulary_of
    from seqapps.export import load_model

    options.model = options.model or default_model("names", "apps.names.predict")
    model = load_model(options.model, app="names")
    vocabulary = vocabulary_of(model)
    reference, note = names_data.training_reference(
        options.model, options.training_data, mode_of(vocabulary), vocabulary.lowercase
    )
    if options.beam is not None:
        records = beam_names(
            model, options.beam, options.prefix, options.max_len, reference, options.jit
        )
    else:
        if options.temperature == 0 and options.count > 1:
            print("--temperature 0 is greedy decoding: one sample", file=sys.stderr)
        records = sample_names(
            model,
            options.count,
            options.temperature,
            options.top_k,
            options.top_p,
            options.prefix,
            options.max_len,
            options.seed,
            reference,
            options.jit,
        )
    columns = ["log_prob", "length"] + (["novelty"] if reference is not None else [])
    write_records(records, [*columns, "sample"], options.format, options.output)
    new, checked = novelty_summary(records)
    if checked:
        empty = sum(r.get("novelty") == EMPTY for r in records)
        print(
            f"new: {new} of {checked} ({100 * new / checked:.1f}%)"
            + (f", {empty} empty" if empty else "")
            + f", checked against {reference.description}",
            file=sys.stderr,
        )
    elif note:
        print(f"novelty not checked: {note}", file=sys.stderr)


if __name__ == "__main__":
    run_main(main, prog="apps.names.predict")
