"""Names sampling speed: names per second at batch 1 and batch 256.

Usage:
  python benchmarks/names.py --model runs/dinos [--rounds 5] [--markdown]
  python benchmarks/names.py --quick          # an untrained default-recipe model, 2 rounds

Times the shared compiled sampling loop (`seqapps.generation.sampler.RecurrentSampler`, one
`tf.function` with a `tf.while_loop` over the characters) with and without XLA
(`jit_compile`) and the run's SavedModel `sample` signature, and the compiled beam search
(beam 5, searches per second). Temperature 1.0, at most 40 characters, a different seed per
call. Batch 1 makes --single calls of one name; batch 256 makes 2 calls of 256 names. Each
of --rounds interleaved rounds times every variant once; the table shows the median names
per second over rounds. Tracing and XLA compilation happen before timing.

Without --model it builds an untrained model of the default recipe (the speed hardly
depends on the weights, but an untrained model's names do not end early, so they run to
the 40-character limit: slower than a trained model's).
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from machine import cpu_name  # noqa: E402  (benchmarks/ is the script's folder)

MAX_LEN = 40


def untrained_model():
    """A names model of the default recipe with random weights over a-z."""
    from apps.names import model as names_model
    from apps.names.train import build_parser
    from seqapps.layers import CharVocabulary
    from seqapps.training import TrainingConfig

    options = build_parser().parse_args([])
    vocabulary = CharVocabulary(list("abcdefghijklmnopqrstuvwxyz"), name="vocabulary")
    return names_model.build_core(vocabulary, options, TrainingConfig.from_options(options))


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", help="names run directory (with saved_model/)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds")
    parser.add_argument("--single", type=int, default=32, help="batch-1 calls per round")
    parser.add_argument("--quick", action="store_true", help="2 rounds of 8 batch-1 calls")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    options = parser.parse_args()
    if options.quick:
        options.rounds, options.single = 2, 8

    import numpy as np
    import tensorflow as tf

    from apps import names
    from apps.names.model import make_sampler
    from seqapps.generation.beam_search import BeamSearch

    model = names.load(options.model) if options.model else untrained_model()
    sampler = make_sampler(model)
    beam_search = BeamSearch(sampler)
    served = None
    if options.model and (Path(options.model) / "saved_model").is_dir():
        served = tf.saved_model.load(str(Path(options.model) / "saved_model")).signatures["sample"]

    seeds = iter(range(10**9))

    def compiled(jit):
        def run(batch):
            result = sampler.generate(batch, MAX_LEN, temperature=1.0, seed=next(seeds), jit=jit)
            return len(result.lengths)

        return run

    def saved(batch):
        out = served(
            count=tf.constant(batch),
            temperature=tf.constant(1.0),
            seed=tf.constant(next(seeds)),
            prefix=tf.constant(""),
        )
        return len(out["strings"].numpy())

    variants = {"compiled loop, jit off": compiled(False), "compiled loop, XLA": compiled(True)}
    if served is not None:
        variants["SavedModel `sample`"] = saved
    plan = {1: options.single, 256: 2}
    for function in variants.values():  # trace and compile
        function(1)
        function(256)
    beam_search.search(5, MAX_LEN)
    results = {}
    for round_index in range(options.rounds):
        names_order = list(variants)
        names_order = (
            names_order[round_index % len(names_order) :]
            + names_order[: round_index % len(names_order)]
        )
        for name in names_order:
            for batch, calls in plan.items():
                start = time.perf_counter()
                made = sum(variants[name](batch) for _ in range(calls))
                results.setdefault((name, batch), []).append(made / (time.perf_counter() - start))
        start = time.perf_counter()
        for _ in range(options.single):
            beam_search.search(5, MAX_LEN)
        results.setdefault("beam", []).append(options.single / (time.perf_counter() - start))
        print(f"round {round_index + 1}/{options.rounds} done", file=sys.stderr)

    mean_length = float(np.mean(sampler.generate(256, MAX_LEN, seed=123).lengths))
    print(
        f"{time.strftime('%Y-%m-%d')}, {cpu_name()}, {os.cpu_count()} cores, "
        f"TensorFlow {tf.__version__}, model {options.model or 'untrained default recipe'}, "
        f"mean sampled length {mean_length:.1f} characters, median of {options.rounds} rounds"
    )
    rows = [
        (name, statistics.median(results[(name, 1)]), statistics.median(results[(name, 256)]))
        for name in variants
    ]
    if options.markdown:
        print("| sampler | batch 1 (names/s) | batch 256 (names/s) |")
        print("|---|---:|---:|")
        for name, one, many in rows:
            print(f"| {name} | {one:,.0f} | {many:,.0f} |")
    else:
        print(f"{'sampler':<28}{'batch 1 (names/s)':>20}{'batch 256 (names/s)':>22}")
        for name, one, many in rows:
            print(f"{name:<28}{one:>20,.0f}{many:>22,.0f}")
    print(
        f"\nBeam search, beam 5 (5 names per search), jit off: "
        f"{statistics.median(results['beam']):,.0f} searches/s"
    )


if __name__ == "__main__":
    main()
