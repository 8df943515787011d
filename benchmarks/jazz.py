"""Jazz generation speed: generated steps per second, compiled loop vs a Python loop.

Usage:
  python benchmarks/jazz.py [--model runs/wjazzd] [--rounds 5] [--steps 4800]

Times one solo (batch 1) and a batch of 64 solos over a ii-V-I progression:

* `python loop + model.predict`: the naive generator, which calls
  `model.predict` on the growing sequence once per step (timed over
  --python-steps steps only: it slows down as the sequence grows, so this
  favours it);
* `python loop + compiled step`: a Python loop around one compiled step
  function that carries the state (no re-reading of the past);
* `seqapps.sampling` without XLA and with XLA (`jit=True`): the whole
  generation in one `tf.function` while loop, with the recipe's sampling
  (pitch temperature 0.8, top-p 0.9: a sort of the logits every step).

Without --model an untrained model of the default recipe (2 x 256 LSTM) is
built: speed does not depend on the weights. Each figure is the median of
--rounds interleaved rounds; compilation is not timed.
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


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", help="jazz run directory (default: untrained default recipe)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds")
    parser.add_argument("--steps", type=int, default=4800, help="steps per compiled generation")
    parser.add_argument(
        "--python-steps", type=int, default=48, help="steps timed for the model.predict loop"
    )
    options = parser.parse_args()

    import numpy as np
    import tensorflow as tf

    from apps.jazz import model as jazz_model
    from apps.jazz import train as jazz_train
    from apps.jazz.generate import DEFAULT_TEMPERATURE, DEFAULT_TOP_P
    from seqapps import music
    from seqapps.export import load_model

    if options.model:
        model = load_model(options.model)
    else:
        model = jazz_model.build_model(jazz_train.build_parser().parse_args([]))
    chords = music.chords_per_step(music.parse_progression("Dm7 G7 | Cmaj7 | % "))
    conditions = jazz_model.sampler_conditions(chords, 4)
    sampler = jazz_model.sampler(model)
    units = [layer.cell.units for layer in jazz_model.recurrent_layers(model)]

    def predict_loop(batch_size):
        steps = options.python_steps
        tokens = np.full((batch_size, 1), music.START, "int32")
        for _ in range(steps):
            length = tokens.shape[1]
            step_in_beat, beat_in_bar = jazz_model.metrical_positions(length, 4)
            rows = np.resize(chords, (length, music.CHORD_DIM))
            logits = model.predict(
                [
                    tokens,
                    np.tile(rows[np.newaxis], (batch_size, 1, 1)),
                    np.tile(step_in_beat, (batch_size, 1)),
                    np.tile(beat_in_bar, (batch_size, 1)),
                ],
                verbose=0,
            )[:, -1]
            tokens = np.concatenate([tokens, logits.argmax(-1)[:, None].astype("int32")], 1)
        return steps

    step_function = tf.function(sampler.step)

    def step_loop(batch_size):
        steps = options.steps // 8
        states = sampler.initial_state(batch_size)
        tokens = tf.fill([batch_size], music.START)
        condition = tf.constant(np.tile(conditions[:1], (batch_size, 1)))
        for step in range(steps):
            logits, states = step_function(tokens, condition, tf.constant(step), states)
            tokens = tf.random.categorical(logits, 1, dtype=tf.int32)[:, 0]
        return steps

    def compiled(jit):
        def run(batch_size):
            batch_conditions = np.tile(conditions[np.newaxis], (batch_size, 1, 1))
            sampler.generate(
                batch_size,
                options.steps,
                conditions=batch_conditions,
                temperature=DEFAULT_TEMPERATURE,
                top_p=DEFAULT_TOP_P,
                jit=jit,
            )
            return options.steps

        return run

    variants = {
        "python loop + model.predict": predict_loop,
        "python loop + compiled step": step_loop,
        "seqapps.sampling (graph)": compiled(False),
        "seqapps.sampling (XLA)": compiled(True),
    }
    results = {}
    for batch_size in (1, 64):
        for function in variants.values():
            function(batch_size)  # trace / compile
        for _ in range(options.rounds):
            for name, function in variants.items():
                start = time.perf_counter()
                steps = function(batch_size)
                elapsed = time.perf_counter() - start
                results.setdefault((name, batch_size), []).append(steps / elapsed)

    print(
        f"{time.strftime('%Y-%m-%d')}, {cpu_name()}, {os.cpu_count()} cores, TensorFlow "
        f"{tf.__version__}, LSTM units {units}, {options.steps} steps per generation, "
        f"median of {options.rounds} rounds"
    )
    print(
        "| generator | batch 1 (steps/s) | batch 64 (steps/s per sequence) | batch 64 (tokens/s) |"
    )
    print("|---|---|---|---|")
    for name in variants:
        one = statistics.median(results[(name, 1)])
        many = statistics.median(results[(name, 64)])
        print(f"| {name} | {one:,.0f} | {many:,.0f} | {64 * many:,.0f} |")


if __name__ == "__main__":
    main()
