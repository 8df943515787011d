"""Cold start of the application scripts: `--help`, an argument error, and one prediction.

Each command runs in a fresh `python` process, as a user types it; the table shows the
median wall time over `--rounds` runs (the commands take turns, round-robin), with the
time `python -c "import tensorflow"` takes on the same machine for comparison.

    python benchmarks/cold_start.py                  # --help and argument errors, 5 rounds
    python benchmarks/cold_start.py --predict        # also one prediction per installed preset
    python benchmarks/cold_start.py --model jazz=runs/wjazzd   # one prediction with that model
    python benchmarks/cold_start.py --markdown       # the table as Markdown
"""

import argparse
import os
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from machine import cpu_name  # noqa: E402

APPS = ("sentiment", "ner", "jazz", "names")
SCRIPTS = ("train", "predict", "evaluate", "export")
# One prediction per app with its default preset (no --model: the app's default).
PREDICTIONS = {
    "sentiment": ["-m", "apps.sentiment.predict", "A gorgeous, witty, moving film."],
    "ner": ["-m", "apps.ner.predict", "Angela Merkel met Emmanuel Macron in Paris."],
    "jazz": ["-m", "apps.jazz.predict", "--chords", "Dm7 G7 | Cmaj7", "--bars", "8"],
    "names": ["-m", "apps.names.predict", "--count", "10"],
}


def commands(predict, models, output_dir):
    rows = [("python -c 'import tensorflow'", ["-c", "import tensorflow"])]
    for app in APPS:
        for script in SCRIPTS:
            rows.append((f"apps.{app}.{script} --help", ["-m", f"apps.{app}.{script}", "--help"]))
        rows.append(
            (f"apps.{app}.train --batch-size 0", ["-m", f"apps.{app}.train", "--batch-size", "0"])
        )
    for app, argv in PREDICTIONS.items():
        if not predict and app not in models:
            continue
        argv = list(argv)
        if app in models:
            argv += ["--model", models[app]]
        shown = list(argv)
        if app == "jazz":
            argv += ["--out", str(Path(output_dir) / "solo.mid")]
            shown += ["--out", "solo.mid"]
        rows.append((shlex.join(shown[1:]), argv))
    return rows


def timed(argv):
    started = time.perf_counter()
    result = subprocess.run([sys.executable, *argv], capture_output=True, text=True, timeout=600)
    return time.perf_counter() - started, result.returncode


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="runs of each command")
    parser.add_argument(
        "--predict", action="store_true", help="also time one prediction per app's default preset"
    )
    parser.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="APP=PATH",
        help="also time one prediction of APP with this model (repeatable)",
    )
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    options = parser.parse_args()
    models = dict(item.split("=", 1) for item in options.model)
    import tempfile

    with tempfile.TemporaryDirectory() as output_dir:
        rows = commands(options.predict, models, output_dir)
        times = {name: [] for name, _ in rows}
        status = {}
        for round_index in range(options.rounds):
            print(f"round {round_index + 1}/{options.rounds}", file=sys.stderr)
            for name, argv in rows:
                seconds, status[name] = timed(argv)
                times[name].append(seconds)
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    header = f"{when}, {cpu_name()}, {os.cpu_count()} cores, median of {options.rounds} runs"
    if options.markdown:
        print(f"{header}\n\n| command | exit status | median s | min s |\n|---|---|---|---|")
        for name, values in times.items():
            cell = name.replace("|", "\\|")
            line = f"| `{cell}` | {status[name]} | {statistics.median(values):.2f} |"
            print(f"{line} {min(values):.2f} |")
    else:
        print(header)
        for name, values in times.items():
            print(f"{statistics.median(values):6.2f} s  (exit {status[name]})  {name}")


if __name__ == "__main__":
    main()
