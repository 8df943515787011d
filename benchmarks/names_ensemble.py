"""Names: dev NLL of independently trained models and of their averaged probabilities.

Usage:
  python benchmarks/names_ensemble.py --data data/names/dinos.txt --members 5 [--markdown]

For each split seed S (`--splits`, default 1 2 3) the names file is split as `train` splits
it with `--seed S` (10 % dev, seeded shuffle) and written to `--runs`/`train_S.txt` and
`dev_S.txt`; `--members` models are trained on that one split with the default recipe
(`python -m apps.names.train --data train_S.txt --dev dev_S.txt --seed K`, K = 1 ... members,
so members differ only in their initial weights and dropout masks). Runs that already exist
under `--runs` are reused. Reported: the dev NLL (nats per character) of each member, their
mean, and that of the first k members together, whose probability of each character is the
mean of theirs: `-mean over characters of log((1/k) sum_i p_i(c))`.
"""

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from machine import cpu_name  # noqa: E402  (benchmarks/ is the script's folder)


def write_split(data, seed, runs):
    """`(train_file, dev_file)` of the split `train --seed SEED` makes of `data`."""
    from apps.names import data as names_data

    corpus = names_data.load(data, "lines")
    train, dev = names_data.split(corpus, 0.1, seed)
    files = runs / f"train_{seed}.txt", runs / f"dev_{seed}.txt"
    names_data.write_lines(files[0], train.strings)
    names_data.write_lines(files[1], dev.strings)
    return files


def train_member(train_file, dev_file, seed, out):
    if (out / "model.keras").is_file():
        return
    command = [sys.executable, "-m", "apps.names.train", "--data", str(train_file)]
    command += ["--dev", str(dev_file), "--out", str(out), "--seed", str(seed), "--no-export"]
    print("+", " ".join(command[1:]), file=sys.stderr)
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


def member_log_probs(run, dev_file):
    """Log-probability of every dev character (end symbols included) under one run."""
    import numpy as np

    from apps.names import data as names_data
    from apps.names.model import encode_examples, target_log_probs, vocabulary_of
    from seqapps.export import load_model

    model = load_model(str(run), app="names")
    strings = names_data.load(str(dev_file), "lines").strings
    return np.concatenate(target_log_probs(model, encode_examples(vocabulary_of(model), strings)))


def ensemble_nll(log_probs):
    """NLL per character of the mean of the members' probabilities."""
    import numpy as np

    stacked = np.stack(log_probs)
    top = stacked.max(axis=0)
    mixed = top + np.log(np.exp(stacked - top).mean(axis=0))
    return float(-mixed.mean())


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="benchmarks/names_ensemble.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--data", required=True, help="the names file (one name per line)")
    parser.add_argument("--splits", type=int, nargs="+", default=[1, 2, 3], help="split seeds")
    parser.add_argument("--members", type=int, default=3, help="models per split")
    parser.add_argument(
        "--runs", default="runs/names_ensemble", help="where splits and runs are written"
    )
    parser.add_argument("--markdown", action="store_true", help="print a markdown table")
    options = parser.parse_args(argv)
    import seqapps

    seqapps.import_keras()
    runs = Path(options.runs)
    runs.mkdir(parents=True, exist_ok=True)
    rows = []
    for split in options.splits:
        train_file, dev_file = write_split(options.data, split, runs)
        log_probs = []
        for member in range(1, options.members + 1):
            out = runs / f"s{split}_k{member}"
            train_member(train_file, dev_file, member, out)
            log_probs.append(member_log_probs(out, dev_file))
        singles = [ensemble_nll([one]) for one in log_probs]
        together = [ensemble_nll(log_probs[:k]) for k in range(1, options.members + 1)]
        rows.append((split, len(log_probs[0]), singles, together))
    members = range(1, options.members + 1)
    header = ["split", "characters", *(f"member {k}" for k in members), "mean of members"]
    header += [f"{k} together" for k in members if k > 1]
    lines = ["| " + " | ".join(header) + " |", "|" + "---:|" * len(header)]
    for split, characters, singles, together in rows:
        cells = [str(split), str(characters), *(f"{x:.4f}" for x in singles)]
        cells += [f"{statistics.mean(singles):.4f}", *(f"{x:.4f}" for x in together[1:])]
        lines.append("| " + " | ".join(cells) + " |")
    means = [statistics.mean(row[2][k] for row in rows) for k in range(options.members)]
    cells = ["mean", "", *(f"{x:.4f}" for x in means)]
    cells += [f"{statistics.mean(means):.4f}"]
    cells += [
        f"{statistics.mean(row[3][k] for row in rows):.4f}" for k in range(1, options.members)
    ]
    lines.append("| " + " | ".join(cells) + " |")
    if options.markdown:
        print(f"{cpu_name()}, dev NLL in nats per character\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
