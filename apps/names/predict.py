"""Sample new names (or text) from a trained character-level language model.

Sampling stops at the end symbol or at --max-len characters (the prefix
included). --temperature 0 is greedy decoding: the single most likely
character at every step, so it gives one sample. --beam K returns the K most
likely completions instead, best first, with their log-probabilities.

Each sample is marked `new` or `in training data`; the training data is found
through the run directory's config.json (without its dev split), or given with
--training-data. The share of new samples goes to stderr; an empty sample (the end symbol
first) is marked `empty` and never counts as new.

Examples:
  python -m apps.names.predict --model runs/dinos -n 20 --temperature 0.8 --seed 1
  python -m apps.names.predict --model runs/dinos --prefix Tyr --beam 5
  python -m apps.names.predict --model runs/dinos -n 1000 --format jsonl --output samples.jsonl
"""

import sys

import numpy as np

from seqapps.cli import (
    UserError,
    check_flags,
    make_parser,
    non_negative_float,
    non_negative_int,
    positive_fraction,
    positive_int,
    random_seed,
    require,
    run_main,
)
from seqapps.sampling import add_sampling_arguments, check_sampling_options
from seqapps.tabular import write_records

NEW, SEEN, EMPTY = "new", "in training data", "empty"


def _prepare(model, prefix, max_len):
    """The vocabulary, prefix ids and step limit; `UserError` for a prefix the model cannot take."""
    from apps.names.model import default_length, vocabulary_of

    vocabulary = vocabulary_of(model)
    prefix = vocabulary.normalize(prefix or "")
    unknown = vocabulary.unknown_characters(prefix)
    if unknown:
        shown = "".join(sorted(vocabulary.characters))
        raise UserError(
            f"--prefix {prefix!r}: character(s) {''.join(unknown)!r} are not in the model's "
            f"vocabulary of {len(vocabulary.characters)} characters: {shown!r}"
        )
    max_len = default_length(vocabulary) if max_len is None else int(max_len)
    if max_len < 1:
        raise UserError(f"--max-len must be a positive integer; received {max_len}")
    if len(prefix) >= max_len and vocabulary.terminated:
        raise UserError(
            f"--prefix has {len(prefix)} characters, leaving none to sample within "
            f"--max-len {max_len}; raise --max-len"
        )
    return vocabulary, vocabulary.encode(prefix), max_len


def _records(vocabulary, tokens, lengths, log_probs, max_len, reference):
    records = []
    for row, length, log_prob in zip(tokens, lengths, log_probs):
        text = vocabulary.decode(row[:length])
        record = {
            "sample": text,
            "log_prob": float(log_prob),
            "length": len(text),
            # Stopped by the end symbol, or cut at --max-len.
            "ended": bool(vocabulary.terminated and length < max_len),
        }
        if reference is not None:
            if not text:
                record["novelty"] = EMPTY  # no name at all, so not a new one
            else:
                record["novelty"] = SEEN if reference.contains(text) else NEW
        records.append(record)
    return records


def sample_names(
    model,
    count=20,
    temperature=1.0,
    top_k=0,
    top_p=1.0,
    prefix="",
    max_len=None,
    seed=1,
    reference=None,
    jit=False,
):
    """Sample strings with the shared compiled sampler; returns one dict per sample.

    Each dict has `sample` (the string, prefix included), `log_prob` (its
    log-probability under the model, end symbol included when it ended),
    `length`, `ended` (False when cut at `max_len`) and, given a
    `TrainingReference`, `novelty` (`"new"` or `"in training data"`).

    Args:
        model: A trained names model.
        count: Number of samples.
        temperature: Softmax temperature; 0 is greedy (one sample).
        top_k: Sample among the k most likely characters (0: all).
        top_p: Sample among the most likely characters whose probabilities
            sum to p (1: all).
        prefix: Characters every sample starts with.
        max_len: Most characters per sample, prefix included (default: 40
            for line models, 200 for running text).
        seed: The same seed gives the same samples.
        reference: Optional `apps.names.data.TrainingReference`.
        jit: Compile the sampling loop with XLA.

    Raises:
        UserError: A bad count, temperature, top-k, top-p or max-len, or a
            prefix with characters outside the vocabulary.
    """
    from apps.names.model import make_sampler

    if count < 1:
        raise UserError(f"-n must be a positive integer; received {count}")
    check_sampling_options(temperature, top_k, top_p)
    vocabulary, prefix_ids, max_len = _prepare(model, prefix, max_len)
    if temperature == 0:
        count = 1  # greedy decoding has one answer
    result = make_sampler(model).generate(
        count,
        max_len,
        prefix=np.asarray(prefix_ids, "int32") if prefix_ids else None,
        temperature=temperature,
        top_k=top_k,
        top_p=top_p,
        seed=seed,
        jit=jit,
    )
    return _records(vocabulary, result.tokens, result.lengths, result.log_probs, max_len, reference)


def beam_names(model, beam=5, prefix="", max_len=None, reference=None, jit=False):
    """The `beam` most likely completions of `prefix`, best first (same dicts as `sample_names`).

    Raises:
        UserError: `beam` below 1, a bad max-len, or a prefix with characters
            outside the vocabulary.
    """
    from apps.names.model import make_sampler
    from seqapps.beam_search import BeamSearch

    if beam is None or beam < 1:
        raise UserError(f"--beam must be a positive integer; received {beam}")
    vocabulary, prefix_ids, max_len = _prepare(model, prefix, max_len)
    sampler = make_sampler(model)
    if getattr(model, "_seqapps_beam_search", None) is None:
        model._seqapps_beam_search = BeamSearch(sampler)
    beams = model._seqapps_beam_search.search(beam, max_len, prefix=prefix_ids, jit=jit)
    # Sequences through masked ids (padding, unknown) only fill beams wider than the vocabulary.
    keep = beams.log_probs > -1e8
    return _records(
        vocabulary,
        beams.tokens[keep],
        beams.lengths[keep],
        beams.log_probs[keep],
        max_len,
        reference,
    )


def novelty_summary(records):
    """`(new, checked)`: how many samples are new, of those checked (empty ones are not new)."""
    checked = [r for r in records if "novelty" in r]
    return sum(r["novelty"] == NEW for r in checked), len(checked)


def build_parser():
    parser = make_parser("apps.names.predict", __doc__)
    parser.add_argument("--model", help="run directory or .keras file")
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
    from apps.names import data as names_data
    from apps.names.model import vocabulary_of
    from seqapps.export import load_model

    options = build_parser().parse_args(argv)
    require(options, "model")
    model = load_model(options.model, app="names")
    vocabulary = vocabulary_of(model)
    reference, note = names_data.training_reference(
        options.model,
        options.training_data,
        "lines" if vocabulary.terminated else "text",
        vocabulary.lowercase,
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
