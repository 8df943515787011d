"""Synthetic sentiment data for the tests."""

import csv
import random

POSITIVE = ["great", "wonderful", "superb", "lovely", "brilliant", "moving"]
NEGATIVE = ["awful", "boring", "terrible", "dull", "bad", "messy"]
FILLER = ["the", "movie", "plot", "was", "actors", "and", "really", "a", "film", "story"]


def synthetic_rows(count, seed=0, labels=("neg", "pos")):
    rng = random.Random(seed)
    rows = []
    for _ in range(count):
        label = rng.choice(labels)
        words = rng.sample(FILLER, 4) + [rng.choice(POSITIVE if label == labels[-1] else NEGATIVE)]
        rng.shuffle(words)
        rows.append({"text": " ".join(words), "label": label})
    return rows


def write_csv(path, rows, fields=("text", "label")):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fields)
        writer.writeheader()
        writer.writerows(rows)
    return path


SMALL = ["--units", "8", "--embedding-dim", "8", "--lr", "0.02", "--batch-size", "32"]
