"""The examples in each app's Python API docstring run, with the outputs they show."""

import importlib

import pytest
from support.doctests import run_examples


@pytest.mark.slow  # the examples train tiny models
@pytest.mark.parametrize("app", ["sentiment", "ner", "jazz", "names"])
def test_facade_examples(app, monkeypatch):
    package = importlib.import_module(f"apps.{app}")
    # Importing the script `apps.<app>.export` (other tests do) binds the package attribute
    # `export` to that module, hiding the API's lazily imported `export` function.
    if "export" in vars(package):
        monkeypatch.delattr(package, "export")
    examples, failures = run_examples(package, f"apps.{app}")
    assert examples > 0, f"apps.{app} has no docstring example"
    assert failures == 0, f"{failures} docstring example(s) of apps.{app} failed"
