"""Sampling and beam search with a names model, and how new the samples are.

`sample_names` draws strings with the model's shared compiled sampler;
`beam_names` returns the most likely completions of a prefix. Given a
`apps.names.data.TrainingReference`, each sample is marked `new`, `in training
data` or `empty` (the end symbol first: no name at all, so never new), and
`sample_report` compares many samples with the training lines.
"""

import numpy as np

from seqapps.errors import UserError
from seqapps.generation.sampler import check_sampling_options

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
    from seqapps.generation.beam_search import BeamSearch

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


def sample_report(model, reference, count=1000, temperature=1.0, seed=1, max_len=None):
    """Draw `count` samples; share new and length distribution against the training lines.

    Args:
        model: A names model of lines.
        reference: The `TrainingReference` of its training lines.
        count, temperature, seed, max_len: As for `sample_names`.

    Returns:
        Dict with `count`, `new`, `new_share`, `ended_share` (samples that
        ended before `max_len`), `lengths` and `training_lengths` (summaries:
        mean, std, quartiles, ...) and `ks_statistic` (largest gap between the
        two length distributions' CDFs; 0 is identical).
    """
    from apps.names import data as names_data

    records = sample_names(
        model, count, temperature, prefix="", max_len=max_len, seed=seed, reference=reference
    )
    new, checked = novelty_summary(records)
    lengths = [r["length"] for r in records]
    training = reference.lengths()
    return {
        "count": len(records),
        "temperature": temperature,
        "new": new,
        "new_share": new / checked if checked else float("nan"),
        "ended_share": float(np.mean([r["ended"] for r in records])),
        "lengths": names_data.length_summary(lengths),
        "training_lengths": names_data.length_summary(training),
        "ks_statistic": names_data.ks_statistic(lengths, training),
        "training_data": reference.description,
    }
