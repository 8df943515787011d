"""Pretrained models shipped with the applications, found by name.

A preset is a folder `presets/<name>/` holding `model.keras`, its model card
`card.md` and `preset.json` (`{"app": ..., "default": true|false, ...}`). A preset's
name works wherever a model path does (`--model sst2`, `apps.sentiment.load("sst2")`):
`seqapps.files.resolve_model_path` looks names up here. `SEQAPPS_PRESETS` names
another presets folder.
"""

import dataclasses
import json
import os
import sys
from pathlib import Path

from seqapps.errors import UserError

PRESETS_VARIABLE = "SEQAPPS_PRESETS"


def presets_directory():
    """The folder presets are read from: `$SEQAPPS_PRESETS`, else the repository's `presets/`."""
    configured = os.environ.get(PRESETS_VARIABLE)
    return Path(configured) if configured else Path(__file__).resolve().parent.parent / "presets"


@dataclasses.dataclass(frozen=True)
class Preset:
    """One shipped model: its name, app, folder and whether it is the app's default."""

    name: str
    app: str
    directory: Path
    default: bool = False

    @property
    def model_path(self):
        return self.directory / "model.keras"

    @property
    def card_path(self):
        return self.directory / "card.md"


def known_presets(app=None):
    """`{name: Preset}` of the presets installed (those of `app` only, if given), by name."""
    found = {}
    root = presets_directory()
    if not root.is_dir():
        return found
    for folder in sorted(root.iterdir()):
        if folder.name.startswith("."):  # one being built (scripts/build_presets.py)
            continue
        description = folder / "preset.json"
        if not (folder / "model.keras").is_file() or not description.is_file():
            continue
        try:
            info = json.loads(description.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise UserError(f"{description}: not a readable preset description ({error})") from None
        preset = Preset(folder.name, info.get("app"), folder, bool(info.get("default")))
        if app is None or preset.app == app:
            found[preset.name] = preset
    return found


def looks_like_a_name(value):
    """Whether `--model VALUE` reads as a preset name rather than a path."""
    text = str(value)
    return bool(text) and os.sep not in text and "/" not in text and "." not in text


def unknown_preset_message(value, app=None):
    names = sorted(known_presets(app))
    shown = ", ".join(names) if names else "none are installed"
    return f"--model {value}: no such file, run directory or preset (presets: {shown})"


def default_model(app, prog):
    """The model a script uses when `--model` is not given: the app's default preset.

    Says which on stderr in one line; raises `UserError` when the app has none.
    """
    presets = known_presets(app)
    defaults = [preset for preset in presets.values() if preset.default] or list(presets.values())
    if not defaults:
        raise UserError(
            f"--model is required: no preset of apps.{app} is installed in {presets_directory()}"
        )
    preset = defaults[0]
    print(f"{prog}: no --model given; using the preset {preset.name!r}", file=sys.stderr)
    return preset.name


def card_metrics(report, keys):
    """The numbers a preset's card shows, read from an `evaluate` JSON report.

    `keys` maps a metric name to `(dotted key in the report, scale, decimals)`, as a
    preset's `preset.json` records them; each value is `round(value * scale, decimals)`,
    an int where `decimals` is 0.

    >>> from seqapps.presets import card_metrics
    >>> card_metrics({"f1": 0.90857, "unseen": {"count": 754.0}},
    ...              {"F1": ("f1", 100, 2), "unseen": ("unseen.count", 1, 0)})
    {'F1': 90.86, 'unseen': 754}
    """
    metrics = {}
    for name, (dotted, scale, decimals) in keys.items():
        value = report
        for key in dotted.split("."):
            value = value[key]
        value = value * scale
        metrics[name] = int(round(value)) if decimals == 0 else round(value, decimals)
    return metrics
