"""The error every seqapps module raises for a mistake the user can fix.

`seqapps.cli.run_main` prints a `UserError` as one line on stderr and exits with its
`exit_code` (2), so a bad file, column, value or flag never shows a traceback.
"""


class UserError(Exception):
    """A mistake the user can fix (bad file, column, value or flag): one line, exit 2."""

    exit_code = 2
