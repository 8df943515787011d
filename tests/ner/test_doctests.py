"""The examples of the `apps.ner` docstring run, with the outputs they show."""

import doctest

import pytest

import apps.ner


@pytest.mark.slow  # the examples train a tiny tagger
def test_docstring_examples(monkeypatch):
    # Importing the script `apps.ner.export` (other tests do) binds the package attribute
    # `export` to that module, hiding the API's lazily imported `export` function.
    if "export" in vars(apps.ner):
        monkeypatch.delattr(apps.ner, "export")
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    examples = 0
    for test in finder.find(apps.ner, "apps.ner", globs={}):
        examples += len(test.examples)
        runner.run(test)
    assert examples > 0, "apps.ner has no docstring example"
    assert runner.failures == 0, f"{runner.failures} docstring example(s) of apps.ner failed"
