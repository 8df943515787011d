"""The examples of the jazz Python API run, with the outputs they show."""

import doctest

import pytest

import apps.jazz


@pytest.mark.slow
def test_docstring_examples(monkeypatch):
    # Importing the script `apps.jazz.export` (other tests do) binds the package attribute
    # `export` to that module, hiding the API's lazily imported `export` function.
    if "export" in vars(apps.jazz):
        monkeypatch.delattr(apps.jazz, "export")
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    examples = 0
    for test in finder.find(apps.jazz, "apps.jazz", globs={}):
        examples += len(test.examples)
        runner.run(test)
    assert examples > 0, "apps.jazz has no docstring example"
    assert runner.failures == 0, f"{runner.failures} docstring example(s) of apps.jazz failed"
