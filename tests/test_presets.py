"""Preset names work wherever a model path does; unknown names list the known ones."""

import json

import keras
import numpy as np
import pytest
from support.doctests import run_examples

from seqapps import presets
from seqapps.errors import UserError
from seqapps.export import load_model
from seqapps.files import resolve_model_path
from seqapps.layers import GRU


@pytest.fixture
def preset_folder(tmp_path, monkeypatch):
    root = tmp_path / "presets"
    for name, app, default in [("tiny", "names", True), ("other", "names", False)]:
        folder = root / name
        folder.mkdir(parents=True)
        model = keras.Sequential([keras.Input((None, 3)), GRU(2)], name=name)
        model.save(folder / "model.keras")
        (folder / "preset.json").write_text(json.dumps({"app": app, "default": default}))
        (folder / "card.md").write_text(f"# {name}\n")
    (root / "half-made").mkdir()  # no model.keras: not a preset
    monkeypatch.setenv(presets.PRESETS_VARIABLE, str(root))
    return root


def test_a_preset_name_resolves_to_its_model(preset_folder):
    assert resolve_model_path("tiny") == preset_folder / "tiny" / "model.keras"
    model = load_model("tiny")
    assert model.name == "tiny"
    assert model(np.zeros((1, 4, 3), "float32")).shape == (1, 2)


def test_an_unknown_name_lists_the_known_presets(preset_folder):
    with pytest.raises(UserError) as refused:
        resolve_model_path("tinny")
    assert str(refused.value) == (
        "--model tinny: no such file, run directory or preset (presets: other, tiny)"
    )


def test_a_path_is_still_a_path(preset_folder, tmp_path):
    with pytest.raises(UserError, match="no such file or directory"):
        resolve_model_path(str(tmp_path / "tiny"))


def test_the_default_preset_is_announced(preset_folder, capsys):
    assert presets.default_model("names", "apps.names.predict") == "tiny"
    assert capsys.readouterr().err == (
        "apps.names.predict: no --model given; using the preset 'tiny'\n"
    )


def test_an_app_without_presets_needs_a_model(preset_folder):
    with pytest.raises(UserError, match="--model is required: no preset of apps.ner"):
        presets.default_model("ner", "apps.ner.predict")


def test_presets_of_one_app(preset_folder):
    assert sorted(presets.known_presets("names")) == ["other", "tiny"]
    assert presets.known_presets("jazz") == {}


def test_card_metrics_scale_and_round_nested_report_values():
    report = {"accuracy": 0.845183, "unseen_mentions": {"f1": 0.74019, "gold_entities": 754.0}}
    keys = {
        "accuracy": ("accuracy", 100.0, 2),
        "F1 on unseen mentions": ("unseen_mentions.f1", 100.0, 1),
        "unseen gold mentions": ("unseen_mentions.gold_entities", 1, 0),
    }
    metrics = presets.card_metrics(report, keys)
    assert metrics == {
        "accuracy": 84.52,
        "F1 on unseen mentions": 74.0,
        "unseen gold mentions": 754,
    }
    assert isinstance(metrics["unseen gold mentions"], int)


def test_card_metrics_docstring_example_runs():
    examples, failures = run_examples(presets, "seqapps.presets")
    assert examples > 0
    assert failures == 0
