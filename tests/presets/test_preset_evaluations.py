"""Evaluating each preset on its shared dev split gives the numbers of its model card."""

import json

import pytest
from conftest import data_dir
from support.cli import run_ok
from support.presets import SHIPPED, checked_evaluations

from seqapps import presets

pytestmark = pytest.mark.slow


@pytest.mark.usefixtures("repository_presets")
@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_the_dev_numbers_of_the_card_are_reproduced(name, capsys):
    evaluations = checked_evaluations(name, data_dir())
    assert evaluations, f"{name}: no evaluation is checked"
    for argv, keys, expected in evaluations:
        out, _ = run_ok(capsys, f"apps.{SHIPPED[name]}.evaluate", argv)
        assert presets.card_metrics(json.loads(out), keys) == expected
