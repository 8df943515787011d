"""Command-line plumbing shared by the application scripts.

Errors a user can cause are raised as `seqapps.errors.UserError`; `run_main` prints them as one
line on stderr and exits with status 2, so no script shows a traceback for a
bad file, column or flag.
"""

import argparse
import os
import sys

from seqapps.errors import UserError


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
    """Shows defaults where they mean something and keeps the description's line breaks.

    No `(default: ...)` is added to a help text that already names its default, to an
    on/off flag (`store_true`, `store_false`, `store_const`, `count`), or for a default
    of None, "" or [] (the help text says what happens without the option). An on/off
    flag that is on by default (`--crf` beside `--no-crf`) says `(the default)`.
    """

    _NO_DEFAULT_ACTIONS = (
        argparse._StoreTrueAction,
        argparse._StoreFalseAction,
        argparse._StoreConstAction,
        argparse._CountAction,
        argparse._HelpAction,
        argparse._VersionAction,
    )

    def _get_help_string(self, action):
        text = action.help or ""
        on_off = (argparse._StoreTrueAction, argparse._StoreFalseAction, argparse._StoreConstAction)
        if isinstance(action, on_off) and action.default == action.const:
            return f"{text} (the default)"
        if (
            "default" in text.lower()
            or isinstance(action, self._NO_DEFAULT_ACTIONS)
            or action.default in (None, "", [], argparse.SUPPRESS)
        ):
            return text
        return super()._get_help_string(action)


def make_parser(prog, description):
    """An `ArgumentParser` whose usage errors also exit 2 with one line (`OneLineParser`)."""
    return OneLineParser(prog=prog, description=description, formatter_class=HelpFormatter)


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


# --- argparse types: numeric flags checked while parsing -----------------------------------
#
# Use them as `type=` of `add_argument`: a bad value stops the script while parsing, with one
# line such as `apps.x.predict: error: --batch-size must be a positive integer; received 0`
# and exit status 2 (see `OneLineParser`). Messages follow the scripts' own checks.


class OneLineParser(argparse.ArgumentParser):
    """An `ArgumentParser` whose errors are one line on stderr and exit status 2.

    Once arguments parse, TensorFlow and Keras are imported (`seqapps.import_keras`):
    `--help` and argument errors answer before that, in a fraction of a second.

    argparse prints the usage before the error; this prints only
    `prog: error: message`. A message from the types below (`argument --x: must be ...`)
    reads `--x must be ...`.
    """

    def parse_known_args(self, args=None, namespace=None):
        parsed = super().parse_known_args(args, namespace)
        # Valid arguments: now the script needs TensorFlow (see `seqapps.import_keras`).
        import seqapps

        seqapps.import_keras()
        return parsed

    def error(self, message):
        flag, separator, rest = message.partition(": ")
        if flag.startswith("argument ") and separator and rest.startswith("must "):
            message = f"{flag.removeprefix('argument ')} {rest}"
        else:
            message = f"{message} (see --help)"
        self.exit(2, f"{self.prog}: error: {message}\n")


def _number(text, kind):
    """`text` as an int (`kind` int) or a finite float; `ArgumentTypeError` otherwise."""
    import math

    try:
        value = kind(text)
    except (TypeError, ValueError):
        expected = "an integer" if kind is int else "a number"
        raise argparse.ArgumentTypeError(f"must be {expected}; received {text!r}") from None
    if kind is float and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number; received {text!r}")
    return value


def positive_int(text):
    """argparse type: an integer >= 1 (counts, sizes, `--batch-size`)."""
    value = _number(text, int)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer; received {value}")
    return value


def non_negative_int(text):
    """argparse type: an integer >= 0 (where 0 means "none" or "off", e.g. `--top-k`)."""
    value = _number(text, int)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0; received {value}")
    return value


def off_or_count(text):
    """argparse type: 0 (the feature is off) or a positive integer (e.g. `--plateau`)."""
    value = _number(text, int)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 (off) or a positive integer; received {value}")
    return value


def positive_float(text):
    """argparse type: a finite number > 0 (rates, `--lr`, `--tempo`)."""
    value = _number(text, float)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive; received {value}")
    return value


def non_negative_float(text):
    """argparse type: a finite number >= 0 (e.g. `--temperature`, where 0 is greedy)."""
    value = _number(text, float)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be >= 0; received {value}")
    return value


def rate(text):
    """argparse type: a number in [0, 1) (dropout rates and other shares of "some, not all")."""
    value = _number(text, float)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1); received {value}")
    return value


def open_fraction(text):
    """argparse type: a number in (0, 1) (a factor that shrinks, e.g. `--plateau-factor`)."""
    value = _number(text, float)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be in (0, 1); received {value}")
    return value


def positive_fraction(text):
    """argparse type: a number in (0, 1] (e.g. `--top-p`, where 1 is everything)."""
    value = _number(text, float)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be in (0, 1]; received {value}")
    return value


def int_range(low, high=None):
    """argparse type factory: an integer in `low..high` (`high` None: no upper bound).

    Example: `type=int_range(1, 8)` for `--beats-per-bar`, `type=int_range(2)` for `--window`.
    """

    def check(text):
        value = _number(text, int)
        if value < low or (high is not None and value > high):
            bounds = f">= {low}" if high is None else f"in {low}..{high}"
            raise argparse.ArgumentTypeError(f"must be {bounds}; received {value}")
        return value

    check.__name__ = f"int_range({low}, {high})"
    return check


def float_range(low, high):
    """argparse type factory: a finite number in [low, high] (e.g. `--tempo` in [4, 1000])."""

    def check(text):
        value = _number(text, float)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be in [{low:g}, {high:g}]; received {value:g}")
        return value

    check.__name__ = f"float_range({low}, {high})"
    return check


def check_flags(parser, **types):
    """Give flags added by a shared helper a checking type: `check_flags(parser, top_k=...)`.

    Keys are `dest` names; each must be an option of `parser` (else `KeyError`).
    """
    actions = {action.dest: action for action in parser._actions}
    for dest, kind in types.items():
        actions[dest].type = kind
    return parser


def random_seed(text):
    """argparse type: a random seed, an integer in 0..2**31 - 1 (TensorFlow takes int32 seeds)."""
    return int_range(0, 2**31 - 1)(text)
