"""The examples of the names Python API run, with the outputs they show."""

import doctest

import pytest

import apps.names


@pytest.mark.slow
def test_docstring_examples(monkeypatch):
    # Importing the script `apps.names.export` (other tests do) binds the package attribute
    # `export` to that module, hiding the API's lazily imported `export` function.
    if "export" in vars(apps.names):
        monkeypatch.delattr(apps.names, "export")
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    examples = 0
    for test in finder.find(apps.names, "apps.names", globs={}):
        examples += len(test.examples)
        runner.run(test)
    assert examples > 0, "apps.names has no docstring example"
    assert runner.failures == 0, f"{runner.failures} docstring example(s) of apps.names failed"
