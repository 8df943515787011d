"""NER data: CoNLL column files, GMB/Kaggle-style CSV tables, and a raw-text tokenizer.

Every loader returns a `Corpus`: sentences of tokens, their tags (None when the file has
no tag column and none is needed), the tag scheme, and the line of every token, so errors
and repairs can name `file:line`.

CoNLL files: one token per line, columns separated by a TAB (if the line has one) or by
spaces; the token is column 1 and the tag the last column, unless `word_col` / `tag_col`
say otherwise (counted from 1; negative numbers count from the end). Any whitespace-only
line ends a sentence (WNUT-17 separates some sentences with a line holding just a TAB), and
`-DOCSTART-` lines are skipped. Every token line of a file must have the same number of
columns.

CSV/TSV/JSONL tables (chosen by the suffix) in the GMB / Kaggle `ner_dataset.csv` layout:
one token per row, columns `Sentence #`, `Word`, `Tag`, where the sentence id is filled in
only on the first row of each sentence.

Tags are `O` or `PREFIX-TYPE` in IOB1, IOB2 or BIOES; the scheme is detected per file
(`seqapps.text.tagging.detect_scheme`) unless given. A tag the scheme does not have, or a
transition it forbids (I-X after O in IOB2), is an error naming the line; `lenient=True`
repairs the transitions instead (I-X after O becomes B-X, as `conlleval` reads it) and
counts the tags it changed.
"""

import dataclasses
import re
import sys
from pathlib import Path

from seqapps.errors import UserError
from seqapps.text import tagging
from seqapps.text.tables import is_table, read_table, read_text_file

DOCSTART = "-DOCSTART-"
CSV_COLUMNS = {"sentence": "Sentence #", "word": "Word", "tag": "Tag"}


@dataclasses.dataclass
class Corpus:
    """Tokenized sentences with (optionally) their tags.

    Attributes:
        sentences: List of token lists.
        tags: List of tag lists (the file's scheme, after any repair), or None.
        source: Where the sentences came from.
        scheme: The tag scheme (`"IOB1"`, `"IOB2"`, `"BIOES"`), or None without tags.
        lines: Per sentence, the line number of each token (for messages).
        rows: Per sentence, the original column values of each token line (CoNLL input),
            so predictions can be written back as an extra column.
        separator: The column separator of a CoNLL file (`"\\t"` or `" "`).
        repairs: How many tags `lenient` reading changed.
    """

    sentences: list
    tags: list
    source: str
    scheme: str = None
    lines: list = None
    rows: list = None
    separator: str = " "
    repairs: int = 0

    def __len__(self):
        return len(self.sentences)

    def entity_types(self):
        """The entity types of the tags, sorted."""
        found = set()
        for tags in self.tags or []:
            found.update(tagging.split_tag(tag)[1] for tag in tags if tag != tagging.OUTSIDE)
        return sorted(found)

    def converted(self, scheme):
        """The tags re-encoded in `scheme` (a new list of lists)."""
        return [tagging.convert(tags, scheme) for tags in self.tags]

    def subset(self, indices):
        """A corpus of the sentences at `indices`."""

        def pick(values):
            return None if values is None else [values[i] for i in indices]

        return dataclasses.replace(
            self,
            sentences=pick(self.sentences),
            tags=pick(self.tags),
            lines=pick(self.lines),
            rows=pick(self.rows),
        )


# Reading -------------------------------------------------------------------------------


def _column_index(value, count, what, path, line):
    """A 1-based (or negative) column number -> a 0-based index, checked against `count`."""
    try:
        number = int(value)
    except (TypeError, ValueError) as error:
        raise UserError(
            f"--{what}-col {value!r}: a CoNLL file needs a column number (1 = first, -1 = last)"
        ) from error
    if number == 0 or not -count <= (number - 1 if number > 0 else number) < count:
        raise UserError(
            f"{path}:{line}: --{what}-col {number} is outside the {count} column(s) of the file"
        )
    return number - 1 if number > 0 else count + number


def read_conll(path, word_col=None, tag_col=None, with_tags=True):
    """Read a CoNLL column file into a `Corpus` with tags as written (not yet checked).

    Args:
        path: The file.
        word_col: Token column, from 1 (default 1).
        tag_col: Tag column, from 1 or negative from the end (default the last).
        with_tags: Read tags; False for unlabelled input (then one column is enough).
    """
    return parse_conll(read_text_file(path), path, word_col, tag_col, with_tags)


def parse_conll(text, path="<text>", word_col=None, tag_col=None, with_tags=True):
    """`read_conll` on text already read; `path` names it in messages."""
    sentences, tags, lines, rows = [], [], [], []
    current = []
    columns = first_line = None
    word_index = tag_index = None
    uses_tab = None

    def close():
        if current:
            sentences.append([token for token, _, _, _ in current])
            tags.append([tag for _, tag, _, _ in current])
            lines.append([number for _, _, number, _ in current])
            rows.append([fields for _, _, _, fields in current])
            current.clear()

    for number, raw in enumerate(text.split("\n"), start=1):
        if not raw.strip():
            close()
            continue
        line = raw.rstrip("\r\n")
        if "\t" in line:
            fields = [field.strip() for field in line.strip().split("\t")]
        else:
            fields = line.split()
        if fields[0] == DOCSTART:
            close()
            continue
        if columns is None:
            columns, first_line, uses_tab = len(fields), number, "\t" in line
            word_index = _column_index(word_col or 1, columns, "word", path, number)
            if with_tags:
                if columns < 2 and tag_col is None:
                    raise UserError(
                        f"{path}:{number}: expected a token and a tag column, found one column"
                    )
                tag_index = _column_index(
                    -1 if tag_col is None else tag_col, columns, "tag", path, number
                )
                if tag_index == word_index:
                    raise UserError(f"{path}: the word and tag columns are the same column")
        elif len(fields) != columns:
            raise UserError(
                f"{path}:{number}: expected {columns} columns (as on line {first_line}), found "
                f"{len(fields)}: {line.strip()[:80]!r}"
            )
        token = fields[word_index]
        if not token:
            raise UserError(f"{path}:{number}: empty token")
        tag = fields[tag_index] if with_tags else None
        if with_tags and not tag:
            raise UserError(f"{path}:{number}: empty tag")
        current.append((token, tag, number, fields))
    close()
    if not sentences:
        raise UserError(f"{path}: no sentences (expected CoNLL lines: token ... tag)")
    return Corpus(
        sentences,
        tags if with_tags else None,
        str(path),
        lines=lines,
        rows=rows,
        separator="\t" if uses_tab else " ",
    )


def read_csv_sentences(path, word_col=None, tag_col=None, sentence_col=None, with_tags=True):
    """Read a GMB/Kaggle-layout table (`Sentence #`, `Word`, `Tag`) into a `Corpus`."""
    word_col = word_col or CSV_COLUMNS["word"]
    tag_col = tag_col or CSV_COLUMNS["tag"]
    sentence_col = sentence_col or CSV_COLUMNS["sentence"]
    needed = [sentence_col, word_col] + ([tag_col] if with_tags else [])
    frame = read_table(path, needed)
    sentences, tags, lines = [], [], []
    sentence_ids = frame[sentence_col].astype(str).str.strip().tolist()
    words = frame[word_col].astype(str).tolist()
    labels = frame[tag_col].astype(str).str.strip().tolist() if with_tags else None
    for row, (sentence_id, word) in enumerate(zip(sentence_ids, words)):
        number = row + 2  # the header is line 1
        if sentence_id:
            sentences.append([])
            tags.append([])
            lines.append([])
        elif not sentences:
            raise UserError(
                f"{path}:{number}: the first row has no sentence id in column {sentence_col!r}"
            )
        word = word.strip()
        if not word:
            raise UserError(f"{path}:{number}: empty token in column {word_col!r}")
        if with_tags and not labels[row]:
            raise UserError(f"{path}:{number}: empty tag in column {tag_col!r}")
        sentences[-1].append(word)
        lines[-1].append(number)
        if with_tags:
            tags[-1].append(labels[row])
    return Corpus(sentences, tags if with_tags else None, str(path), lines=lines)


def check_tags(corpus, scheme=None, lenient=False):
    """Detect (or take) the scheme, then check every tag and transition; repair if lenient.

    Sets `corpus.scheme`, and with `lenient` replaces the tags of repaired sentences and
    sets `corpus.repairs`.

    Raises:
        UserError: `file:line: ...` for a tag the scheme lacks, and for a forbidden
            transition unless `lenient`.
    """
    if scheme in (None, "auto"):
        for tags, numbers in zip(corpus.tags, corpus.lines):
            for tag, number in zip(tags, numbers):
                if tagging.split_tag(tag)[0] is None:
                    raise UserError(
                        f"{corpus.source}:{number}: tag {tag!r} is not O or PREFIX-TYPE "
                        "(e.g. B-PER)"
                    )
        scheme = tagging.detect_scheme(corpus.tags)
    else:
        scheme = tagging.scheme_name(scheme)
    for tags, numbers in zip(corpus.tags, corpus.lines):
        for tag, number in zip(tags, numbers):
            message = tagging.tag_error(tag, scheme)
            if message:  # no repair for a tag the scheme does not have
                raise UserError(f"{corpus.source}:{number}: {message}")
    repairs = 0
    for index, (tags, numbers) in enumerate(zip(corpus.tags, corpus.lines)):
        found = tagging.problems(tags, scheme)
        if not found:
            continue
        if not lenient:
            position, message = found[0]
            line = numbers[min(position, len(numbers) - 1)]
            raise UserError(
                f"{corpus.source}:{line}: {message}; pass --lenient to repair such tags"
            )
        repaired = tagging.convert(tags, scheme)
        repairs += sum(a != b for a, b in zip(tags, repaired))
        corpus.tags[index] = repaired
    corpus.scheme = scheme
    corpus.repairs = repairs
    return corpus


def load(
    path,
    word_col=None,
    tag_col=None,
    sentence_col=None,
    scheme=None,
    lenient=False,
    with_tags=True,
):
    """Load a CoNLL file or a table (by suffix), check its tags, and return a `Corpus`.

    Args:
        path: The file.
        word_col, tag_col: Column numbers (CoNLL, from 1) or names (tables).
        sentence_col: The sentence-id column of a table.
        scheme: `"iob1"`, `"iob2"`, `"bioes"`, or None / `"auto"` to detect it.
        lenient: Repair forbidden transitions instead of failing.
        with_tags: Whether the file must have tags.
    """
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: no such file or directory")
    if is_table(path):
        corpus = read_csv_sentences(path, word_col, tag_col, sentence_col, with_tags)
    else:
        if sentence_col is not None:
            raise UserError("--sentence-col applies to CSV/TSV/JSONL tables only")
        corpus = read_conll(path, word_col, tag_col, with_tags)
    if with_tags:
        check_tags(corpus, scheme, lenient)
    return corpus


def report_repairs(corpus):
    """Say on stderr how many tags `lenient` reading repaired in `corpus`, if any."""
    if corpus.repairs:
        print(f"{corpus.source}: repaired {corpus.repairs} tag(s) (--lenient)", file=sys.stderr)


def split(corpus, dev_fraction, seed):
    """A seeded train/dev split of one corpus (when no --dev is given)."""
    import numpy as np

    if not 0.0 < dev_fraction < 1.0:
        raise UserError(f"--dev-fraction must be in (0, 1); received {dev_fraction}")
    order = np.random.default_rng(seed).permutation(len(corpus))
    dev_count = max(1, int(round(len(corpus) * dev_fraction)))
    if len(corpus) - dev_count < 1:
        raise UserError(
            f"{corpus.source}: too few sentences ({len(corpus)}) to split off a dev set"
        )
    return corpus.subset(sorted(order[dev_count:])), corpus.subset(sorted(order[:dev_count]))


# Raw text ------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
      (?:https?://|www\.)[^\s<>"]*[^\s<>".,;:!?'")\]}]   # URL (without trailing punctuation)
    | [\w.+-]+@\w+(?:[.-]\w+)*\.\w+                      # e-mail address
    | [@\#]\w+                                          # @mention, #hashtag
    | (?:[^\W\d_]\.){2,}                                # U.S., p.m., e.g.
    | \d+(?:[.,:/]\d+)+[^\W\d_]*(?![\w'’-])             # 3.5  1,000  12:30  9/11  3.5m
    | \w+(?:[-'’]\w+)*                                  # words, inner hyphens and apostrophes
    | \S                                                # any other character
    """,
    re.VERBOSE,
)
_CLITIC = re.compile(r"^(.+?)(n['’]t|['’](?:s|re|ve|ll|d|m))$", re.IGNORECASE)


def tokenize(text):
    """Split raw text into tokens the way CoNLL-2003 is tokenized, keeping offsets.

    Rules, in order of precedence at each position: URLs; e-mail addresses; @mentions and
    #hashtags; letter-period abbreviations (`U.S.`, `p.m.`); numbers with inner `.,:/`
    (`3.5`, `1,000`, `3.5m`); words (letters, digits, `_`) with inner hyphens and apostrophes
    (`Anglo-Dutch`, `1996-08-30`, `O'Neill`), from which English clitics are split off
    (`don't` -> `do n't`, `Germany's` -> `Germany 's`); and any other non-space character
    alone (`Mr.` -> `Mr .`, as in CoNLL). Whitespace separates tokens and is never part
    of one.

    Returns:
        A list of `(token, start, end)` with `text[start:end] == token`.
    """
    tokens = []
    for match in _TOKEN.finditer(text):
        token, start = match.group(), match.start()
        clitic = _CLITIC.match(token) if ("'" in token or "’" in token) else None
        if clitic and clitic.group(1)[-1:].isalpha():
            stem = clitic.group(1)
            tokens.append((stem, start, start + len(stem)))
            tokens.append((clitic.group(2), start + len(stem), match.end()))
        else:
            tokens.append((token, start, match.end()))
    return tokens
