"""Running a script's `main` in-process the way `run_main` runs it from the shell."""

import pytest

from seqapps.cli import run_main


def run(capsys, module, argv):
    """`(exit status, stderr)` of `python -m <module> argv`, run in this process."""
    with pytest.raises(SystemExit) as exit_info:
        run_main(module.main, argv, prog=module.__name__)
    return exit_info.value.code, capsys.readouterr().err.strip()


def check_one_line(code, err, *fragments):
    """A user error: exit 2, one line, no traceback, and the given fragments."""
    assert code == 2, err
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, err
