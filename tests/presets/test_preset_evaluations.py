"""Evaluating each preset on its shared dev split gives the numbers of its model card."""

import json

import pytest
from conftest import data_dir
from support.presets import REPOSITORY_PRESETS, SHIPPED, checked_evaluations

from seqapps import presets

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_the_dev_numbers_of_the_card_are_reproduced(name, run_python):
    evaluations = checked_evaluations(name, data_dir())
    assert evaluations, f"{name}: no evaluation is checked"
    for argv, keys, expected in evaluations:
        result = run_python(
            ["-m", f"apps.{SHIPPED[name]}.evaluate", *argv], env=REPOSITORY_PRESETS, timeout=600
        )
        assert presets.card_metrics(json.loads(result.stdout), keys) == expected
