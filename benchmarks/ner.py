"""NER tagging speed: CRF vs softmax decoding, Keras model vs SavedModel, batch 1 and 256.

Usage:
  python benchmarks/ner.py [--data ../shared/data/conll2003/eng.testa] [--rounds 5]
  python benchmarks/ner.py --quick
  python benchmarks/ner.py --crf-model runs/conll --softmax-model runs/conll_softmax

Without models, it builds two untrained taggers with `apps.ner.train`'s default recipe
(word 100 + casing 8 + char BiLSTM 25x2, BiLSTM 200x2), one decoding with the CRF (Viterbi
path plus forward-backward marginals) and one with a softmax, sharing the vocabulary of
the sentences; speed does not depend on the weights. Prints sentences per second (median
of --rounds interleaved rounds) for:

* keras: `apps.ner.tag_sentences` on the end-to-end model (token strings in, IOB2 tags and
  their probabilities out, including the Python conversion);
* saved_model: the exported SavedModel's `tag_tokens` signature on padded token strings
  (batches of length-sorted sentences, as `tag_sentences` makes them);

at batch 1 (the first --single sentences, one call each) and batch 256 (all --sentences
sentences), and the CRF's cost over the softmax at batch 256.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from machine import cpu_name  # noqa: E402  (benchmarks/ is the script's folder)


def synthetic_sentences(count, seed=0):
    """Sentences of 4 to 30 (mean about 15) tokens drawn from a few hundred word forms."""
    import random

    rng = random.Random(seed)
    words = [f"{stem}{suffix}" for stem in ("Ber", "lin", "pa", "Ris", "eu", "Un") for suffix in
             ("", "s", "ed", "ing", "ation", "-based", "'s", "ia", "er", "ton")]  # fmt: skip
    words += [".", ",", "the", "a", "of", "said", "1996", "3.5", "U.S.", "(", ")"]
    return [[rng.choice(words) for _ in range(rng.randint(4, 26))] for _ in range(count)]


def untrained_tagger(sentences, crf):
    """An end-to-end tagger with the default recipe and random weights."""
    from apps.ner import model as ner_model
    from apps.ner.train import build_parser
    from seqapps.text import tagging
    from seqapps.text.words import build_vocabulary
    from seqapps.training import TrainingConfig

    options = build_parser().parse_args([] if crf else ["--no-crf"])
    tags = tagging.tag_set(["LOC", "MISC", "ORG", "PER"], "BIOES")
    words = build_vocabulary([[t.lower() for t in s] for s in sentences])
    chars = build_vocabulary([list(t) for s in sentences for t in s])
    features = ner_model.TokenFeatures(words, chars, options.max_word_chars, name="features")
    _, inference, _ = ner_model.build_tagger(
        features, tags, "BIOES", options, TrainingConfig.from_options(options)
    )
    return ner_model.build_end_to_end(features, inference, tags)


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", help="CoNLL file whose sentences are tagged")
    parser.add_argument("--crf-model", help="trained CRF run directory (default: untrained)")
    parser.add_argument("--softmax-model", help="trained softmax run directory")
    parser.add_argument("--sentences", type=int, default=512, help="sentences per batch-256 round")
    parser.add_argument("--single", type=int, default=64, help="sentences per batch-1 round")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds")
    parser.add_argument(
        "--quick", action="store_true", help="smoke test: 2 rounds, 256 sentences, 16 single"
    )
    options = parser.parse_args()
    if options.quick:
        options.rounds, options.sentences, options.single = 2, 256, 16

    import numpy as np
    import tensorflow as tf

    from apps import ner
    from apps.ner import data as ner_data
    from apps.ner.export import export

    if options.data:
        sentences = ner_data.load(options.data, with_tags=False).sentences
    else:
        sentences = synthetic_sentences(options.sentences)
    sentences = (sentences * (1 + options.sentences // len(sentences)))[: options.sentences]
    mean_length = np.mean([len(s) for s in sentences])

    models = {}
    for name, path, crf in (
        ("crf", options.crf_model, True),
        ("softmax", options.softmax_model, False),
    ):
        models[name] = ner.load(path) if path else untrained_tagger(sentences, crf)
    temporary = tempfile.mkdtemp(prefix="ner_bench_")
    served = {}
    for name, model in models.items():
        export(model, os.path.join(temporary, name))
        served[name] = tf.saved_model.load(os.path.join(temporary, name)).signatures["tag_tokens"]

    def keras_run(name, batch):
        group = sentences[: options.single] if batch == 1 else sentences
        return lambda: ner.tag_sentences(models[name], group, batch_size=batch)

    def saved_run(name, batch):
        # Sorted by length like `tag_sentences` does, so both pad alike.
        group = sorted(sentences[: options.single] if batch == 1 else sentences, key=len)
        batches = []
        for start in range(0, len(group), batch):
            chunk = group[start : start + batch]
            width = max(map(len, chunk))
            tokens = tf.constant([s + [""] * (width - len(s)) for s in chunk])
            batches.append((tokens, tf.constant([len(s) for s in chunk], tf.int32)))

        def run():
            for tokens, lengths in batches:
                served[name](tokens=tokens, lengths=lengths)["tags"].numpy()

        return run

    variants = {}
    for name in models:
        for batch in (1, 256):
            variants[("keras", name, batch)] = keras_run(name, batch)
            variants[("saved_model", name, batch)] = saved_run(name, batch)
    for run in variants.values():  # warm up: tracing is not timed
        run()
        run()
    times = {key: [] for key in variants}
    keys = list(variants)
    for round_index in range(options.rounds):
        print(f"round {round_index + 1}/{options.rounds}", file=sys.stderr)
        order = keys[round_index % len(keys) :] + keys[: round_index % len(keys)]
        for key in order:
            start = time.perf_counter()
            variants[key]()
            times[key].append(time.perf_counter() - start)

    def rate(key):
        count = options.single if key[2] == 1 else len(sentences)
        return count / statistics.median(times[key])

    print(
        f"{cpu_name()}, {os.cpu_count()} CPUs; TensorFlow {tf.__version__}; "
        f"{len(sentences)} sentences of {mean_length:.1f} tokens on average"
        f"{' from ' + options.data if options.data else ''}; "
        f"{'trained' if options.crf_model else 'untrained default-recipe'} models; "
        f"median of {options.rounds} rounds"
    )
    print()
    print("| runtime | decoder | batch | sentences/s |")
    print("|---|---|---:|---:|")
    for key in keys:
        print(f"| {key[0]} | {key[1]} | {key[2]} | {rate(key):.1f} |")
    print()
    for runtime in ("keras", "saved_model"):
        for batch in (1, 256):
            crf_time = 1 / rate((runtime, "crf", batch))
            softmax_time = 1 / rate((runtime, "softmax", batch))
            print(
                f"CRF cost over softmax, {runtime}, batch {batch}: "
                f"{100 * (crf_time / softmax_time - 1):+.1f}%"
            )


if __name__ == "__main__":
    main()
