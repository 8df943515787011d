"""Running a module's docstring examples the way the docs show them."""

import doctest


def run_examples(module, name, globs=None):
    """Run every docstring example of `module`; returns `(examples, failures)`.

    Outputs are compared with `ELLIPSIS` and `NORMALIZE_WHITESPACE`; failures are
    printed (pytest shows them with the failing test).
    """
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    examples = 0
    for test in finder.find(module, name, globs=dict(globs or {})):
        if test.examples:
            examples += len(test.examples)
            runner.run(test)
    return examples, runner.failures
