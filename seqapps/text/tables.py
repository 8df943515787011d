"""Reading tables (CSV, TSV, JSONL) and line files with errors users can act on."""

import csv
import json
import sys
from pathlib import Path

from seqapps.errors import UserError

TABLE_SUFFIXES = {".csv": ",", ".tsv": "\t", ".tab": "\t"}
JSON_SUFFIXES = (".jsonl", ".ndjson", ".json")


def read_text_file(path):
    """The file's text; missing, unreadable or non-UTF-8 files become `UserError`s."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError as error:
        raise UserError(f"{path}: no such file") from error
    except IsADirectoryError as error:
        raise UserError(f"{path}: is a directory, expected a file") from error
    except OSError as error:
        raise UserError(f"{path}: cannot read ({error.strerror})") from error
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise UserError(
            f"{path}:{line}: bytes that are not UTF-8 ({data[error.start : error.start + 4]!r}); "
            "convert the file to UTF-8"
        ) from error


def is_table(path):
    suffix = Path(path).suffix.lower()
    return suffix in TABLE_SUFFIXES or suffix in JSON_SUFFIXES


def read_table(path, columns=()):
    """Read a CSV/TSV/JSONL file into a pandas DataFrame of strings.

    Args:
        path: The file; the format follows the suffix.
        columns: Column names that must be present.

    Raises:
        UserError: Missing or non-UTF-8 file, malformed rows, no rows, or a
            missing column (the message lists the columns found).
    """
    import io

    import pandas as pd

    path = Path(path)
    text = read_text_file(path)
    suffix = path.suffix.lower()
    try:
        if suffix in JSON_SUFFIXES:
            records = []
            for number, line in enumerate(text.split("\n"), start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as error:
                    raise UserError(f"{path}:{number}: not valid JSON ({error.msg})") from error
                if not isinstance(record, dict):
                    raise UserError(f"{path}:{number}: expected a JSON object per line")
                records.append(record)
            frame = pd.DataFrame.from_records(records)
        else:
            separator = TABLE_SUFFIXES.get(suffix, ",")
            frame = pd.read_csv(
                io.StringIO(text),
                sep=separator,
                dtype=str,
                keep_default_na=False,
                quoting=csv.QUOTE_MINIMAL if separator == "," else csv.QUOTE_NONE,
            )
    except pd.errors.EmptyDataError as error:
        raise UserError(f"{path}: file is empty") from error
    except pd.errors.ParserError as error:
        raise UserError(f"{path}: cannot parse as {suffix or 'CSV'} ({error})") from error
    if frame.empty:
        raise UserError(f"{path}: no rows")
    for column in columns:
        if column not in frame.columns:
            raise UserError(
                f"{path}: no column {column!r}; columns are {', '.join(map(str, frame.columns))}"
            )
    return frame


def read_lines(path):
    """Non-empty lines of a UTF-8 text file (split on newlines only)."""
    text = read_text_file(path)
    return [line.rstrip("\r") for line in text.split("\n") if line.strip()]


def add_input_arguments(parser, texts_help, input_help):
    """The input flags of every predict script: positional texts, --model, --input, --text-col."""
    parser.add_argument("texts", nargs="*", help=texts_help)
    parser.add_argument(
        "--model",
        help="run directory, .keras file or preset name (default: the app's default preset)",
    )
    parser.add_argument("--input", help=input_help)
    parser.add_argument("--text-col", default="text", help="text column of an --input table")
    return parser


def read_inputs(texts, input_path, text_col):
    """The inputs of a predict script: positional texts, `--input FILE`, or stdin.

    A table (`.csv`, `.tsv`, `.jsonl`) gives the `--text-col` column; any other
    file gives one input per line. Inputs may be empty strings.
    """
    if texts and input_path:
        raise UserError("give texts as arguments or --input FILE, not both")
    if texts:
        return list(texts)
    if input_path:
        if is_table(input_path):
            return read_table(input_path, [text_col])[text_col].astype(str).tolist()
        return split_lines(read_text_file(input_path))
    return split_lines(read_stdin("give texts as arguments, --input FILE, or pipe lines to stdin"))


def read_stdin(advice):
    """All of stdin as text; `UserError` when nothing is piped in (with `advice`) or not UTF-8."""
    if sys.stdin is None or sys.stdin.isatty():
        raise UserError(f"no input: {advice}")
    data = sys.stdin.buffer.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UserError(f"stdin: bytes that are not UTF-8 at offset {error.start}") from error


def split_lines(text):
    """The lines of `text`, one input each: `""` has none, `"\\n"` one empty line.

    A final newline ends the last line rather than starting another; `\\r\\n` counts
    as a newline.
    """
    if text == "":
        return []
    lines = text.split("\n")
    if text.endswith("\n"):
        lines = lines[:-1]
    return [line.removesuffix("\r") for line in lines]


def printable(text):
    """`text` safe to show on a terminal: control and other invisible characters escaped.

    Each character Python does not count as printable (ESC, tab, newline, NUL, DEL,
    bidirectional overrides, ...) is written as `repr` writes it (`\\x1b`, `\\t`,
    `\\u202e`); everything else, non-ASCII letters included, is kept. For human-readable
    output only: JSON lines and CSV keep the exact text.
    """
    text = "" if text is None else str(text)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def write_records(records, columns, output_format, output_path=None):
    """Print or write records as an aligned table, JSON lines or CSV.

    Args:
        records: List of dicts.
        columns: Keys shown in `table`/`csv` formats (JSON lines get all keys).
        output_format: `"table"`, `"jsonl"` or `"csv"`.
        output_path: A file to write atomically instead of stdout.
    """
    import io

    buffer = io.StringIO()
    if output_format == "jsonl":
        for record in records:
            buffer.write(json.dumps(record, ensure_ascii=False) + "\n")
    elif output_format == "csv":
        writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for record in records:
            writer.writerow({k: _cell(record.get(k)) for k in columns})
    elif records:
        cells = [[printable(_cell(record.get(k))) for k in columns] for record in records]
        widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
        widths[-1] = 0  # the last column is not padded
        buffer.write("  ".join(c.ljust(w) for c, w in zip(columns, widths)).rstrip() + "\n")
        for row in cells:
            buffer.write("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() + "\n")
    if output_path:
        from seqapps.files import write_text

        write_text(output_path, buffer.getvalue())
    else:
        sys.stdout.write(buffer.getvalue())


def _cell(value):
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else str(value)
