"""`scripts/build_presets.py` packages a run into a preset whose card states measured numbers."""

import dataclasses
import importlib.util
import json
import zipfile

import h5py
import pytest
from support.cli import REPO_ROOT
from support.sentiment import SMALL, synthetic_rows, write_csv

from seqapps import presets
from seqapps.export import load_model

pytestmark = pytest.mark.slow


def build_presets_module():
    spec = importlib.util.spec_from_file_location(
        "build_presets", REPO_ROOT / "scripts" / "build_presets.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def weight_names(keras_file, folder):
    with zipfile.ZipFile(keras_file) as archive:
        archive.extract("model.weights.h5", folder)
    names = []
    with h5py.File(folder / "model.weights.h5") as weights:
        weights.visit(names.append)
    return names


def test_a_run_becomes_a_preset_with_the_numbers_evaluate_gives(tmp_path, monkeypatch):
    build = build_presets_module()
    data = tmp_path / "data"
    data.mkdir()
    write_csv(data / "train.csv", synthetic_rows(240, seed=1))
    write_csv(data / "dev.csv", synthetic_rows(60, seed=2))
    recipe = build.Recipe(
        name="tiny",
        app="sentiment",
        default=True,
        summary="Made-up reviews.",
        train=("--data", "{data}/train.csv", "--dev", "{data}/dev.csv", "--epochs", "2")
        + (*SMALL, "--no-export"),
        evaluations=(
            build.Evaluation(
                "the dev file",
                ("--data", "{data}/dev.csv"),
                {"accuracy": ("accuracy", 100.0, 2), "examples": ("examples", 1, 0)},
            ),
        ),
        data="300 made-up reviews.",
        terms="None.",
        example='python -m apps.sentiment.predict --model tiny "a lovely film"',
    )
    run = build.train(recipe, str(data), tmp_path / "runs")
    out = tmp_path / "presets"
    info = build.package(recipe, run, str(data), out)

    dev = json.loads((run / "metrics.json").read_text())["dev"]
    expected = {"accuracy": round(100 * dev["accuracy"], 2), "examples": 60}
    assert info["evaluations"][0]["metrics"] == expected
    assert info["training"]["epochs"] == 2 and info["default"] is True
    assert [path.name for path in out.iterdir()] == ["tiny"]  # nothing half-built beside it
    folder = out / "tiny"
    assert sorted(path.name for path in folder.iterdir()) == [
        "card.md",
        "config.json",
        "model.keras",
        "preset.json",
    ]
    # The run's file carries the optimizer's state; the preset's does not.
    assert any("optimizer" in name for name in weight_names(run / "model.keras", tmp_path / "a"))
    assert not any("optimizer" in name for name in weight_names(folder / "model.keras", tmp_path))
    card = (folder / "card.md").read_text()
    assert f"| {expected['accuracy']} | 60 |" in card
    assert "cwd" not in json.loads((folder / "config.json").read_text())

    monkeypatch.setenv(presets.PRESETS_VARIABLE, str(out))
    assert list(presets.known_presets("sentiment")) == ["tiny"]
    assert load_model("tiny", app="sentiment").count_params() == info["parameters"]

    # An evaluation added later is measured on the shipped file; its weights stay as they are.
    weights = (folder / "model.keras").read_bytes()
    recipe = dataclasses.replace(
        recipe,
        evaluations=recipe.evaluations
        + (
            build.Evaluation(
                "the training file",
                ("--data", "{data}/train.csv"),
                {"examples": ("examples", 1, 0)},
            ),
        ),
    )
    remeasured = build.remeasure(recipe, folder, str(data))
    assert [e["metrics"] for e in remeasured["evaluations"]] == [expected, {"examples": 240}]
    assert json.loads((folder / "preset.json").read_text()) == remeasured
    assert "the training file:" in (folder / "card.md").read_text()
    assert (folder / "model.keras").read_bytes() == weights
