"""Command-line pieces the NER scripts share: the flags that say how to read a labelled
file, and the readers that apply them to parsed options."""

from pathlib import Path

from apps.ner import data as ner_data
from seqapps.errors import UserError
from seqapps.text.tables import is_table, read_stdin, read_text_file


def add_data_arguments(parser, with_scheme=True):
    """Add the "reading files" flags (train, evaluate; predict without the scheme flags)."""
    group = parser.add_argument_group("reading files")
    group.add_argument(
        "--word-col",
        help="token column: a number for CoNLL files (from 1; default 1), a name for tables "
        "(default 'Word')",
    )
    group.add_argument(
        "--tag-col",
        help="tag column: a number for CoNLL files (from 1, negative from the end; default the "
        "last), a name for tables (default 'Tag')",
    )
    group.add_argument(
        "--sentence-col", help="tables only: the sentence-id column (default 'Sentence #')"
    )
    if with_scheme:
        group.add_argument(
            "--scheme",
            choices=("auto", "iob1", "iob2", "bioes"),
            default="auto",
            help="tag scheme of the files (auto: detect per file)",
        )
        group.add_argument(
            "--lenient",
            action="store_true",
            help="repair invalid tag transitions (e.g. I-X after O becomes B-X) instead of "
            "failing; the number of repaired tags is printed",
        )
    return group


def load_corpus(path, options, with_tags=True):
    """Load one file with the reading flags of `options` (`add_data_arguments`)."""
    return ner_data.load(
        path,
        word_col=options.word_col,
        tag_col=options.tag_col,
        sentence_col=options.sentence_col,
        scheme=getattr(options, "scheme", None),
        lenient=getattr(options, "lenient", False),
        with_tags=with_tags,
    )


def read_tokenized(options):
    """The untagged `Corpus` predict's --tokenized mode reads.

    From the arguments (split on whitespace), from --input (CoNLL or a table), or from
    CoNLL lines on stdin; an empty file or stdin is a corpus without sentences.
    """
    if options.texts and options.input:
        raise UserError("give token lists as arguments or --input FILE, not both")
    if options.texts:
        return ner_data.Corpus([text.split() for text in options.texts], None, "arguments")
    if options.input:
        if options.tag_col:
            raise UserError("--tag-col is not read by predict (tags are predicted)")
        conll = not is_table(options.input) and Path(options.input).is_file()
        if conll and read_text_file(options.input) == "":
            return ner_data.Corpus([], None, str(options.input))  # no lines, no sentences
        return load_corpus(options.input, options, with_tags=False)
    text = read_stdin("give --input FILE, arguments, or pipe CoNLL lines to stdin")
    if text == "":
        return ner_data.Corpus([], None, "stdin")
    return ner_data.parse_conll(text, "stdin", options.word_col, with_tags=False)
