"""Sentiment predict speed: Keras model vs SavedModel, batch 1 and 256, and script cold start.

Usage:
  python benchmarks/sentiment.py --model runs/sst5 [--rounds 5] [--texts ../shared/data/sst/dev.txt]

Prints sentences per second (median of --rounds interleaved rounds) for the
end-to-end Keras model (`model.predict_on_batch` on strings) and for the
SavedModel's `serving_default` signature, at batch 1 and batch 256, and the
wall time of `python -m apps.sentiment.predict` on one sentence (cold start:
a fresh process that imports TensorFlow, loads the model and predicts).
"""

import argparse
import os
import statistics
import subprocess
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
    parser.add_argument(
        "--model", required=True, help="sentiment run directory (with saved_model/)"
    )
    parser.add_argument("--texts", help="SST tree file or one-sentence-per-line file of inputs")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds")
    parser.add_argument("--cold-starts", type=int, default=3, help="predict-script runs to time")
    options = parser.parse_args()

    import tensorflow as tf

    from apps import sentiment
    from apps.sentiment import data as sentiment_data

    if options.texts:
        texts = sentiment_data.load(options.texts).texts
    else:
        texts = [
            f"a {'wonderful ' * (i % 7)}film that is {'not ' * (i % 2)}dull" for i in range(512)
        ]
    texts = (texts * (1 + 512 // len(texts)))[:512]
    model = sentiment.load(options.model)
    served = tf.saved_model.load(str(Path(options.model) / "saved_model")).signatures[
        "serving_default"
    ]

    def keras_predict(batch):
        return model.predict_on_batch(tf.constant(batch))

    def saved_predict(batch):
        return served(text=tf.constant(batch))["probabilities"]

    results = {}
    for batch_size, batches in ((1, 64), (256, 2)):
        chunks = [texts[i * batch_size : (i + 1) * batch_size] for i in range(batches)]
        for function in (keras_predict, saved_predict):
            for chunk in chunks[:2]:
                function(chunk)  # warm up / trace
        for _ in range(options.rounds):
            for name, function in (("keras", keras_predict), ("saved_model", saved_predict)):
                start = time.perf_counter()
                for chunk in chunks:
                    function(chunk)
                elapsed = time.perf_counter() - start
                results.setdefault((name, batch_size), []).append(batch_size * batches / elapsed)

    colds = []
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for _ in range(options.cold_starts):
        start = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "apps.sentiment.predict",
                "--model",
                options.model,
                "a fine film",
            ],
            check=True,
            capture_output=True,
            env=env,
            cwd=ROOT,
        )
        colds.append(time.perf_counter() - start)

    print(
        f"{time.strftime('%Y-%m-%d')}, {cpu_name()}, {os.cpu_count()} cores, "
        f"TensorFlow {tf.__version__}, model {options.model}"
    )
    print("| model | batch 1 (sentences/s) | batch 256 (sentences/s) |")
    print("|---|---|---|")
    for name in ("keras", "saved_model"):
        one = statistics.median(results[(name, 1)])
        many = statistics.median(results[(name, 256)])
        label = (
            "Keras model (`predict_on_batch`)"
            if name == "keras"
            else "SavedModel `serving_default`"
        )
        print(f"| {label} | {one:,.0f} | {many:,.0f} |")
    print(
        f"\nCold start of `python -m apps.sentiment.predict` on one sentence: median "
        f"{statistics.median(colds):.1f} s over {len(colds)} runs"
    )


if __name__ == "__main__":
    main()
