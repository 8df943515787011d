"""The shipped presets as the tests check them: their descriptions and recorded evaluations."""

import json
import os

import pytest

from seqapps import presets

# Every preset the repository ships, with its app. A missing one fails its tests.
SHIPPED = {
    "sst2": "sentiment",
    "sst5": "sentiment",
    "conll03": "ner",
    "wnut17": "ner",
    "dinos": "names",
    "wjazzd": "jazz",
}
DEFAULTS = {"sentiment": "sst2", "ner": "conll03", "jazz": "wjazzd", "names": "dinos"}

# Subprocesses read the repository's presets, whatever the calling environment says.
REPOSITORY_PRESETS = {presets.PRESETS_VARIABLE: ""}


def shipped_directory():
    saved = os.environ.pop(presets.PRESETS_VARIABLE, None)
    try:
        return presets.presets_directory()
    finally:
        if saved is not None:
            os.environ[presets.PRESETS_VARIABLE] = saved


def description(name):
    """The preset's `preset.json`."""
    return json.loads((shipped_directory() / name / "preset.json").read_text(encoding="utf-8"))


def card(name):
    return (shipped_directory() / name / "card.md").read_text(encoding="utf-8")


def checked_evaluations(name, data):
    """`(argv, keys, expected metrics)` of each evaluation the card says the tests repeat.

    `{data}` in a recorded argument is the datasets folder; a test skips, saying which
    file, when the dataset is absent.
    """
    evaluations = []
    for evaluation in description(name)["evaluations"]:
        if not evaluation["checked_in_tests"]:
            continue
        argv = [part.replace("{data}", str(data)) for part in evaluation["argv"]]
        for part in evaluation["argv"]:
            if part.startswith("{data}") and not os.path.exists(part.replace("{data}", str(data))):
                pytest.skip(f"{part.replace('{data}', str(data))} not found (set SEQAPPS_DATA)")
        evaluations.append((argv, evaluation["keys"], evaluation["metrics"]))
    return evaluations
