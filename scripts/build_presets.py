"""Retrain the shipped presets from the public datasets and write their folders and cards.

Each preset is trained with its app's default recipe (the commands below), then
`presets/<name>/` is written: `model.keras` (weights, vocabulary and configuration,
without the optimizer's state), `config.json` (the run's recorded options, which
`train --init-from` and `evaluate` read), `preset.json` (the app, whether it is the
app's default, and the evaluations with the numbers they gave on this very file) and
`card.md`, the model card. The numbers are measured by running the app's `evaluate`
script on the written file; `tests/presets/` runs the same commands and expects the
same numbers. A folder is replaced only once its new contents are complete.

Training all of them takes one to two hours on two CPU cores (the jazz model most of it).
CI does not run this script.

Examples:
  python scripts/build_presets.py                      # every preset, data in ../shared/data
  python scripts/build_presets.py --only sst2 --data /path/to/data
  python scripts/build_presets.py --from-runs runs/presets   # package runs trained already
  python scripts/build_presets.py --remeasure --only sst5   # new evaluations, same weights
"""

import argparse
import csv
import dataclasses
import datetime
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY))

from seqapps.files import atomic_path, write_text  # noqa: E402
from seqapps.presets import card_metrics, presets_directory  # noqa: E402

# The data folder as the recorded commands spell it; tests/presets substitutes $SEQAPPS_DATA.
DATA = "{data}"
SIZE_BUDGET_BYTES = 40 * 1024 * 1024


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """One `evaluate` command of a preset and the numbers its card reports from it.

    `metrics` maps a name to `(dotted key in the JSON, scale, decimals)`; the card
    and `preset.json` hold `round(value * scale, decimals)`.
    """

    title: str
    argv: tuple
    metrics: dict
    checked_in_tests: bool = True


@dataclasses.dataclass(frozen=True)
class Recipe:
    name: str
    app: str
    default: bool
    summary: str
    train: tuple
    evaluations: tuple
    data: str
    terms: str
    example: str


PERCENT = 100.0
SST_DATA = (
    "Stanford Sentiment Treebank (`trainDevTestTrees_PTB.zip`, "
    "https://nlp.stanford.edu/sentiment/): the training trees, every labelled phrase."
)
SST_TERMS = (
    "Research data; cite Socher et al., *Recursive Deep Models for Semantic "
    "Compositionality Over a Sentiment Treebank*, EMNLP 2013."
)


def sst_recipe(name, classes, default, summary, example):
    """An SST preset: every labelled phrase of the training trees, `classes` labels."""
    return Recipe(
        name=name,
        app="sentiment",
        default=default,
        summary=summary,
        train=(
            "--data",
            f"{DATA}/sst/train.txt",
            "--dev",
            f"{DATA}/sst/dev.txt",
            "--sst-phrases",
            "--classes",
            str(classes),
        ),
        evaluations=(
            Evaluation(
                f"SST-{classes} dev sentences",
                ("--data", f"{DATA}/sst/dev.txt"),
                {"accuracy": ("accuracy", PERCENT, 2), "macro-F1": ("macro_f1", PERCENT, 2)},
            ),
            *(
                # A five-class model also answers SST-2 (`--classes 2`).
                (
                    Evaluation(
                        "SST-2 dev sentences, the five classes turned into two",
                        ("--classes", "2", "--data", f"{DATA}/sst/dev.txt"),
                        {
                            "SST-2 accuracy": ("accuracy", PERCENT, 2),
                            "SST-2 macro-F1": ("macro_f1", PERCENT, 2),
                        },
                    ),
                )
                if classes == 5
                else ()
            ),
        ),
        data=SST_DATA,
        terms=SST_TERMS,
        example=example,
    )


def entity_evaluation(title, dev_file):
    """The entity-level scores of an NER preset on `dev_file`, unseen mentions included."""
    return Evaluation(
        title,
        ("--data", dev_file),
        {
            "F1": ("f1", PERCENT, 2),
            "precision": ("precision", PERCENT, 2),
            "recall": ("recall", PERCENT, 2),
            "F1 on unseen mentions": ("unseen_mentions.f1", PERCENT, 2),
            "unseen gold mentions": ("unseen_mentions.gold_entities", 1, 0),
        },
    )


RECIPES = (
    sst_recipe(
        "sst2",
        2,
        default=True,
        summary="English sentence polarity: negative or positive (Stanford Sentiment Treebank, "
        "binary, neutral sentences dropped).",
        example='python -m apps.sentiment.predict --model sst2 "A gorgeous, witty film."',
    ),
    sst_recipe(
        "sst5",
        5,
        default=False,
        summary="English sentence sentiment on five levels, very negative to very positive "
        "(Stanford Sentiment Treebank, fine-grained).",
        example='python -m apps.sentiment.predict --model sst5 "Dull and overlong."',
    ),
    Recipe(
        name="conll03",
        app="ner",
        default=True,
        summary="English named entities (PER, LOC, ORG, MISC) in news text, CoNLL-2003.",
        train=(
            "--data",
            f"{DATA}/conll2003/eng.train",
            "--dev",
            f"{DATA}/conll2003/eng.testa",
            "--max-minutes",
            "60",
        ),
        evaluations=(
            entity_evaluation(
                "CoNLL-2003 dev (`eng.testa`), entity level", f"{DATA}/conll2003/eng.testa"
            ),
        ),
        data="CoNLL-2003 English (Reuters RCV1 news; https://www.clips.uantwerpen.be/conll2003/"
        "ner/): `eng.train`, early stopping on `eng.testa`.",
        terms="The Reuters corpus is for research use only (its licence agreement with NIST); "
        "cite Tjong Kim Sang and De Meulder, CoNLL 2003.",
        example='python -m apps.ner.predict --model conll03 "Angela Merkel met Emmanuel Macron '
        'in Paris."',
    ),
    Recipe(
        name="wnut17",
        app="ner",
        default=False,
        summary="Emerging and rare entities in social media text (person, location, "
        "corporation, product, creative-work, group), WNUT-17.",
        train=(
            "--data",
            f"{DATA}/wnut17/wnut17train.conll",
            "--dev",
            f"{DATA}/wnut17/emerging.dev.conll",
            "--max-minutes",
            "12",
        ),
        evaluations=(
            entity_evaluation(
                "WNUT-17 dev (`emerging.dev.conll`), entity level",
                f"{DATA}/wnut17/emerging.dev.conll",
            ),
        ),
        data="WNUT-17 Emerging and Rare Entities (https://noisy-text.github.io/2017/"
        "emerging-rare-entities.html): `wnut17train.conll`, early stopping on "
        "`emerging.dev.conll`.",
        terms="Released under CC BY 4.0 by the W-NUT 2017 organisers; cite Derczynski et al., "
        "*Results of the WNUT2017 Shared Task on Novel and Emerging Entity Recognition*.",
        example='python -m apps.ner.predict --model wnut17 "just saw the new Spider-Man '
        'movie in Seattle"',
    ),
    Recipe(
        name="dinos",
        app="names",
        default=True,
        summary="A character-level language model of dinosaur names: samples new names and "
        "scores strings.",
        train=("--data", f"{DATA}/names/dinos.txt"),
        evaluations=(
            Evaluation(
                "the dev split of `dinos.txt` (10 %, seed 1)",
                ("--data", f"{DATA}/names/dinos.txt", "--dev-split", "--samples", "0"),
                {
                    "NLL (nats/char)": ("nll", 1, 4),
                    "bits/char": ("bits_per_char", 1, 4),
                    "characters": ("characters", 1, 0),
                },
            ),
            Evaluation(
                "1,000 samples at temperature 1 (seed 1) against the run's training names",
                ("--score", "Tyrannosaurus", "--samples", "1000"),
                {
                    "new share (%)": ("samples.new_share", PERCENT, 1),
                    "mean length": ("samples.lengths.mean", 1, 2),
                },
                checked_in_tests=False,
            ),
        ),
        data="`dinos.txt`, 1,391 dinosaur names (the list of Andrew Ng's Deep Learning "
        "course, from Wikipedia's list of dinosaur genera).",
        terms="Genus names are facts, not copyrightable; the list follows Wikipedia (CC BY-SA).",
        example="python -m apps.names.predict --model dinos --count 10",
    ),
    Recipe(
        name="wjazzd",
        app="jazz",
        default=True,
        summary="Improvises monophonic jazz solos (MIDI, MusicXML, piano roll) over a chord "
        "progression, trained on the Weimar Jazz Database with the default recipe.",
        train=("--data", f"{DATA}/jazz/wjazzd"),
        evaluations=(
            Evaluation(
                "the dev split of WJazzD (38 solos, by tune group, seed 1), likelihood",
                ("--corpus", f"{DATA}/jazz/wjazzd", "--likelihood-only"),
                {
                    "NLL (nats/step)": ("likelihood.nll", 1, 4),
                    "token accuracy": ("likelihood.accuracy", 1, 4),
                },
            ),
            Evaluation(
                "solos over the first 32 bars of the dev solos' chords, seed 1, default "
                "sampling (pitch temperature 0.8, top-p 0.9)",
                ("--corpus", f"{DATA}/jazz/wjazzd", "--seed", "1"),
                {
                    "chord tones (%)": (
                        "literature.generated.harmonic_coherence.generated.chord_tone_share",
                        PERCENT,
                        2,
                    ),
                    "chord-scale tones (%)": (
                        "literature.generated.harmonic_coherence.generated.scale_tone_share",
                        PERCENT,
                        2,
                    ),
                    "pitch-class histogram KL": (
                        "literature.generated.mgeval.total_pitch_class_histogram.kl_reference",
                        1,
                        3,
                    ),
                    "real dev solos' chord tones (%)": (
                        "literature.real.chord_tone_share",
                        PERCENT,
                        2,
                    ),
                },
                checked_in_tests=False,
            ),
        ),
        data="Weimar Jazz Database 2.1 (https://jazzomat.hfm-weimar.de/dbformat/dboverview.html):"
        " 385 transcribed solos with their beats and chords.",
        terms="Open Database License (ODbL 1.0): attribute the Jazzomat Research Project, "
        "Hochschule für Musik Franz Liszt Weimar (Pfleiderer et al., *Inside the Jazzomat*, "
        "2017).",
        example='python -m apps.jazz.predict --model wjazzd --chords "Dm7 G7 | Cmaj7" --bars 8 '
        "--out solo.mid",
    ),
)


def fill(argv, data):
    return [part.replace(DATA, data) for part in argv]


def python_module(app, script, argv, cwd):
    """Run `python -m apps.<app>.<script> ARGV`; its stdout, or exit with its stderr."""
    command = [sys.executable, "-m", f"apps.{app}.{script}", *argv]
    print("+", shlex.join(command[1:]), file=sys.stderr)
    completed = subprocess.run(command, cwd=cwd, stdout=subprocess.PIPE, text=True)
    if completed.returncode != 0:
        sys.exit(f"build_presets: {shlex.join(command[1:])} failed ({completed.returncode})")
    return completed.stdout


def training_record(run):
    """Epochs run, kept epoch and training minutes of a finished run directory."""
    with open(run / "history.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    kept = json.loads((run / "metrics.json").read_text(encoding="utf-8")).get("epoch")
    return {
        "epochs": len(rows),
        "kept_epoch": kept,
        "minutes": round(float(rows[-1]["seconds"]) / 60, 1) if rows else None,
    }


def drop_optimizers(model):
    """Forget the optimizer of the model and of every model inside it (the training core).

    Its state doubles or triples the file and a preset needs none: `--init-from` starts a
    new optimizer.
    """
    import keras

    if getattr(model, "optimizer", None) is not None:
        model.optimizer = None
        model.compiled = False
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            drop_optimizers(layer)


def package(recipe, run, data, out_root):
    """Write `presets/<recipe.name>/` from a finished run; returns its preset.json."""
    import keras

    import seqapps

    seqapps.import_keras()
    config = json.loads((run / "config.json").read_text(encoding="utf-8"))
    # The build machine's working directory says nothing about the model.
    config.pop("cwd", None)
    target = out_root / recipe.name
    with atomic_path(target) as staging:
        staging.mkdir()
        model = keras.saving.load_model(run / "model.keras", compile=False)
        drop_optimizers(model)
        model.save(staging / "model.keras")
        (staging / "config.json").write_text(json.dumps(config, indent=2) + "\n")
        description = {
            "app": recipe.app,
            "default": recipe.default,
            "summary": recipe.summary,
            "parameters": int(model.count_params()),
            "size_bytes": (staging / "model.keras").stat().st_size,
            "training": {"command": config["command"], **training_record(run)},
            "versions": config.get("versions", {}),
            "built": datetime.date.today().isoformat(),
            "evaluations": measure(recipe, staging / "model.keras", data),
        }
        (staging / "preset.json").write_text(json.dumps(description, indent=2) + "\n")
        (staging / "card.md").write_text(card(recipe, description), encoding="utf-8")
    return description


def measure(recipe, model_file, data):
    """Run each evaluation of `recipe` on `model_file`: the entries of `preset.json`."""
    evaluations = []
    for evaluation in recipe.evaluations:
        # The file, not the folder: evaluate writes no plot beside a .keras file.
        argv = ["--model", str(model_file), *fill(evaluation.argv, data)]
        started = time.monotonic()
        report = json.loads(python_module(recipe.app, "evaluate", argv, REPOSITORY))
        evaluations.append(
            {
                "title": evaluation.title,
                "command": shlex.join(
                    ["python", "-m", f"apps.{recipe.app}.evaluate", "--model", recipe.name]
                    + fill(evaluation.argv, "../shared/data")
                ),
                "argv": ["--model", recipe.name, *evaluation.argv],
                "metrics": card_metrics(report, evaluation.metrics),
                "keys": {name: list(spec) for name, spec in evaluation.metrics.items()},
                "seconds": round(time.monotonic() - started, 1),
                "checked_in_tests": evaluation.checked_in_tests,
            }
        )
    return evaluations


def remeasure(recipe, folder, data):
    """Measure a shipped preset again and rewrite its `preset.json` and card, not its weights."""
    description = json.loads((folder / "preset.json").read_text(encoding="utf-8"))
    description["evaluations"] = measure(recipe, folder / "model.keras", data)
    write_text(folder / "preset.json", json.dumps(description, indent=2) + "\n")
    write_text(folder / "card.md", card(recipe, description))
    return description


def card(recipe, description):
    """The model card: what it does, data and terms, how it was trained, what it measures."""
    training = description["training"]
    versions = ", ".join(f"{name} {version}" for name, version in description["versions"].items())
    lines = [
        f"# `{recipe.name}` ({recipe.app})",
        "",
        recipe.summary,
        "",
        "```bash",
        recipe.example,
        f"python -m apps.{recipe.app}.train --init-from {recipe.name} --data YOUR_DATA "
        "--out runs/mine   # continue training on your data",
        "```",
        "",
        f"In Python: `apps.{recipe.app}.load({recipe.name!r})`; with Keras only: "
        f'`import seqapps; keras.saving.load_model("presets/{recipe.name}/model.keras")`.',
        f"{'It is' if recipe.default else 'It is not'} the default model of "
        f"`apps.{recipe.app}.predict`.",
        "",
        "## Data and terms",
        "",
        f"- **Data:** {recipe.data}",
        f"- **Terms:** {recipe.terms}",
        "- The preset holds weights and the vocabulary the model needs, no training text.",
        "",
        "## Training",
        "",
        "```bash",
        training["command"],
        "```",
        "",
        f"The app's default recipe: {training['epochs']} epochs in {training['minutes']} "
        f"minutes on 2 CPU cores, the weights of epoch {training['kept_epoch']} kept (best on "
        "dev). Rebuilt by `python scripts/build_presets.py --only "
        f"{recipe.name}`.",
        "",
        "## Measured on this file (dev data only)",
        "",
    ]
    for evaluation in description["evaluations"]:
        names = list(evaluation["metrics"])
        lines += [
            f"{evaluation['title']}:",
            "",
            "```bash",
            evaluation["command"],
            "```",
            "",
            "| " + " | ".join(names) + " |",
            "|" + "---:|" * len(names),
            "| " + " | ".join(str(evaluation["metrics"][name]) for name in names) + " |",
            "",
        ]
        if evaluation["checked_in_tests"]:
            lines += ["`tests/presets/` runs this command and expects these numbers.", ""]
    size_mb = description["size_bytes"] / 1e6
    lines += [
        "## File",
        "",
        f"- `model.keras`: {size_mb:.1f} MB, {description['parameters']:,} parameters "
        "(no optimizer state).",
        f"- Built {description['built']} with {versions}.",
        "",
    ]
    return "\n".join(lines)


def presets_table(out_root):
    """A markdown table of the presets: app, default, size and the checked dev numbers."""
    rows = [
        "| preset | app | default | size | dev numbers (from its card) |",
        "|---|---|---|---:|---|",
    ]
    for recipe in RECIPES:
        path = out_root / recipe.name / "preset.json"
        if not path.is_file():
            continue
        info = json.loads(path.read_text(encoding="utf-8"))
        numbers = "; ".join(
            ", ".join(f"{name} {value}" for name, value in evaluation["metrics"].items())
            for evaluation in info["evaluations"]
        )
        rows.append(
            f"| [`{recipe.name}`](presets/{recipe.name}/card.md) | {recipe.app} | "
            f"{'yes' if info['default'] else ''} | {info['size_bytes'] / 1e6:.1f} MB | {numbers} |"
        )
    return "\n".join(rows)


def train(recipe, data, runs_root):
    run = runs_root / recipe.name
    python_module(recipe.app, "train", [*fill(recipe.train, data), "--out", str(run)], REPOSITORY)
    return run


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="scripts/build_presets.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--data",
        default=os.environ.get("SEQAPPS_DATA", "../shared/data"),
        help="the datasets folder (default: $SEQAPPS_DATA, else ../shared/data)",
    )
    parser.add_argument(
        "--only", nargs="+", metavar="NAME", help="build these presets only (default: all)"
    )
    parser.add_argument(
        "--runs",
        default="runs/presets",
        help="where the training runs go (default: runs/presets)",
    )
    parser.add_argument(
        "--from-runs",
        metavar="DIR",
        help="package DIR/<name> runs trained already instead of training",
    )
    parser.add_argument(
        "--remeasure",
        action="store_true",
        help="run the evaluations of the presets in --out again and rewrite their preset.json "
        "and card.md (after an evaluation was added); the weights are left as they are",
    )
    parser.add_argument("--out", default=str(presets_directory()), help="presets folder to write")
    parser.add_argument(
        "--table",
        action="store_true",
        help="print the README's table of the presets in --out (from their preset.json) and stop",
    )
    options = parser.parse_args(argv)
    if options.table:
        print(presets_table(Path(options.out)))
        return 0
    known = {recipe.name: recipe for recipe in RECIPES}
    unknown = sorted(set(options.only or ()) - set(known))
    if unknown:
        parser.exit(2, f"build_presets: unknown preset(s) {unknown}; known: {sorted(known)}\n")
    out_root = Path(options.out)
    out_root.mkdir(parents=True, exist_ok=True)
    for name in options.only or list(known):
        recipe = known[name]
        if options.remeasure:
            description = remeasure(recipe, out_root / name, options.data)
            print(f"{name}: " + "; ".join(str(e["metrics"]) for e in description["evaluations"]))
            continue
        if options.from_runs:
            run = Path(options.from_runs) / name
        else:
            run = train(recipe, options.data, Path(options.runs))
        description = package(recipe, run.resolve(), options.data, out_root)
        print(
            f"{name}: {description['size_bytes'] / 1e6:.1f} MB; "
            + "; ".join(str(e["metrics"]) for e in description["evaluations"]),
            file=sys.stderr,
        )
    total = sum(path.stat().st_size for path in out_root.rglob("*") if path.is_file())
    print(f"presets: {total / 1e6:.1f} MB in all", file=sys.stderr)
    if total > SIZE_BUDGET_BYTES:
        print(
            f"build_presets: over the {SIZE_BUDGET_BYTES / 2**20:.0f} MiB budget", file=sys.stderr
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
