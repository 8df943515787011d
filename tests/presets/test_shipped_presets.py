"""The shipped presets: complete folders, within the size budget, loadable with Keras alone."""

import json

import pytest
from support.presets import DEFAULTS, SHIPPED, card, description, shipped_directory

from seqapps import presets

pytestmark = pytest.mark.slow

SIZE_BUDGET_BYTES = 40 * 1024 * 1024


def test_every_preset_is_shipped_with_its_app():
    found = {name: preset.app for name, preset in presets.known_presets().items()}
    assert found == SHIPPED


def test_each_app_has_one_default_preset():
    defaults = {}
    for name, preset in presets.known_presets().items():
        if preset.default:
            assert preset.app not in defaults, f"two defaults for {preset.app}"
            defaults[preset.app] = name
    assert defaults == DEFAULTS


def test_the_presets_fit_the_size_budget():
    total = sum(path.stat().st_size for path in shipped_directory().rglob("*") if path.is_file())
    assert 0 < total <= SIZE_BUDGET_BYTES


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_the_card_shows_what_preset_json_records(name):
    info, text = description(name), card(name)
    assert info["training"]["command"] in text
    for evaluation in info["evaluations"]:
        assert evaluation["command"] in text
        row = "| " + " | ".join(str(value) for value in evaluation["metrics"].values()) + " |"
        assert row in text
    size = (shipped_directory() / name / "model.keras").stat().st_size
    assert info["size_bytes"] == size
    assert f"{size / 1e6:.1f} MB" in text


def test_each_loads_in_a_fresh_process_with_seqapps_only(run_python):
    paths = {name: str(shipped_directory() / name / "model.keras") for name in SHIPPED}
    script = (
        "import json, sys\n"
        "import keras\n"
        "import seqapps\n"
        "paths = json.loads(sys.argv[1])\n"
        "print(json.dumps({name: keras.saving.load_model(path).count_params()"
        " for name, path in paths.items()}))\n"
    )
    result = run_python(["-c", script, json.dumps(paths)])
    counts = json.loads(result.stdout.strip().splitlines()[-1])
    assert counts == {name: description(name)["parameters"] for name in SHIPPED}
