"""Command-line plumbing shared by the application scripts.

Errors a user can cause are raised as `UserError`; `run_main` prints them as one
line on stderr and exits with status 2, so no script shows a traceback for a
bad file, column or flag.
"""

import argparse
import os
import sys


class UserError(Exception):
    """A mistake the user can fix (bad file, column, value or flag): one line, exit 2."""

    exit_code = 2


def run_main(main, argv=None, prog=None):
    """Run `main(argv)` as a script: `UserError` becomes a one-line message and exit 2.

    Args:
        main: Function taking the argument list.
        argv: Arguments (default `sys.argv[1:]`).
        prog: Program name for messages.
    """
    prog = prog or os.path.basename(sys.argv[0])
    try:
        result = main(sys.argv[1:] if argv is None else argv)
    except UserError as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        sys.exit(130)
    except BrokenPipeError:
        # Output piped into `head` and the like: not an error.
        sys.stderr.close()
        sys.exit(0)
    sys.exit(result or 0)


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Shows defaults and keeps the description's line breaks."""


def make_parser(prog, description):
    """An `ArgumentParser` whose usage errors also exit 2 with one line."""
    return argparse.ArgumentParser(
        prog=prog, description=description, formatter_class=HelpFormatter
    )


def options_from_kwargs(parser, **kwargs):
    """Build the namespace a script would get, from Python keyword arguments.

    This is how the Python API (`apps.<app>.train(...)`) reuses the scripts'
    defaults and checks: every keyword must be a flag of the script (with `-`
    written as `_`). Scripts check required options themselves, so parsing no
    arguments always works.
    """
    known = {action.dest for action in parser._actions} - {"help"}
    unknown = sorted(set(kwargs) - known)
    if unknown:
        raise TypeError(f"unknown option(s) {unknown}; known: {sorted(known)}")
    namespace = parser.parse_args([])
    for key, value in kwargs.items():
        setattr(namespace, key, value)
    return namespace


def require(options, *names):
    """Raise `UserError` for each named option left unset."""
    for name in names:
        if getattr(options, name, None) in (None, [], ""):
            raise UserError(f"--{name.replace('_', '-')} is required")


def lazy_api(package, names):
    """A module `__getattr__` that imports a package's API functions on first use.

    Importing the scripts eagerly from `apps/<app>/__init__.py` would load each
    script module twice under `python -m apps.<app>.train`; this keeps the
    package import empty until a function is used.

    Args:
        package: The package name, for error messages.
        names: `{attribute: "module"}` or `{attribute: ("module", "name in module")}`.
    """
    import importlib

    def __getattr__(name):
        if name not in names:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        target = names[name]
        module_name, attribute = target if isinstance(target, tuple) else (target, name)
        return getattr(importlib.import_module(module_name), attribute)

    return __getattr__
