"""Names data: one example per line, or running text cut into windows.

`lines` mode reads one example per non-empty line (names, words, short
lines), with surrounding whitespace removed and repeated lines kept once, so
a dev name never also sits in the training names. `text` mode reads the whole
file as running text; the dev set is its last part, so no window of the dev
text overlaps the training text.
"""

import dataclasses

import numpy as np

from seqapps.errors import UserError
from seqapps.text.tables import read_text_file

MODES = ("lines", "text")


@dataclasses.dataclass
class Corpus:
    """Training or dev data: a list of strings (`lines`) or one running text (`text`)."""

    mode: str
    source: str
    strings: list = None
    text: str = None

    def __len__(self):
        return len(self.strings) if self.mode == "lines" else len(self.text)

    def describe(self):
        if self.mode == "lines":
            return f"{len(self.strings)} lines"
        return f"{len(self.text)} characters"

    def all_text(self):
        """Every character of the data, to build the vocabulary from."""
        return "".join(self.strings) if self.mode == "lines" else self.text


def read_lines(path, lowercase=False):
    """The distinct non-empty lines of a file, stripped, in file order.

    Raises:
        UserError: Missing, unreadable or non-UTF-8 file, or no non-empty line.
    """
    text = read_text_file(path)
    seen = set()
    lines = []
    for line in text.split("\n"):
        line = line.strip()
        if lowercase:
            line = line.lower()
        if line and line not in seen:
            seen.add(line)
            lines.append(line)
    if not lines:
        raise UserError(f"{path}: no examples (the file is empty or holds only blank lines)")
    return lines


def read_running_text(path, lowercase=False):
    """The whole file as one string (line breaks are characters like any other)."""
    text = read_text_file(path).replace("\r\n", "\n")
    if lowercase:
        text = text.lower()
    if not text.strip():
        raise UserError(f"{path}: no text (the file is empty or holds only whitespace)")
    return text


def load(path, mode="lines", lowercase=False):
    """A `Corpus` from a file."""
    if mode not in MODES:
        raise UserError(f"--mode must be one of {', '.join(MODES)}; received {mode!r}")
    if mode == "lines":
        return Corpus("lines", str(path), strings=read_lines(path, lowercase))
    return Corpus("text", str(path), text=read_running_text(path, lowercase))


def train_and_dev(options, seed):
    """The training and dev `Corpus` of parsed training options.

    Reads `data`, `mode` and `lowercase`; the dev set is the file `dev`, or
    else a split of the data by `dev_fraction`, `seed` and (text) `window`.
    """
    train_set = load(options.data, options.mode, options.lowercase)
    if options.dev:
        return train_set, load(options.dev, options.mode, options.lowercase)
    return split(train_set, options.dev_fraction, seed, options.window)


def write_lines(path, lines):
    """Write one example per line, so that `read_lines` gives them back."""
    from seqapps.files import write_text

    write_text(path, "".join(f"{line}\n" for line in lines))


def split(corpus, dev_fraction, seed, window=None):
    """A train/dev split of one corpus (for when no dev file is given).

    Lines are split by a seeded shuffle; running text is split at a point, the
    last `dev_fraction` being dev (at least one `window` of it; lines ignore
    `window`).

    Raises:
        UserError: Too little data to leave both sides non-empty.
    """
    if not 0.0 < dev_fraction < 1.0:
        raise UserError(f"--dev-fraction must be in (0, 1); received {dev_fraction}")
    if corpus.mode == "lines":
        count = len(corpus.strings)
        dev_count = max(1, int(round(count * dev_fraction)))
        if count - dev_count < 1:
            raise UserError(
                f"{corpus.source}: {count} distinct line(s) are too few to split off a dev set; "
                "give a file with at least 2 distinct lines, or a dev file with --dev"
            )
        order = np.random.default_rng(seed).permutation(count)
        pick = lambda idx: Corpus(  # noqa: E731
            "lines", corpus.source, strings=[corpus.strings[i] for i in sorted(idx)]
        )
        return pick(order[dev_count:]), pick(order[:dev_count])
    length = len(corpus.text)
    dev_length = max(int(round(length * dev_fraction)), window or 1)
    if length - dev_length < (window or 1):
        raise UserError(
            f"{corpus.source}: {length} characters are too few to split off a dev set of "
            f"{dev_length}; give more text, a smaller --window, or a dev file with --dev"
        )
    cut = length - dev_length
    return (
        Corpus("text", corpus.source, text=corpus.text[:cut]),
        Corpus("text", corpus.source, text=corpus.text[cut:]),
    )


def characters(corpus):
    """The vocabulary: every distinct character of the corpus, by descending count."""
    counts = {}
    for character in corpus.all_text():
        counts[character] = counts.get(character, 0) + 1
    return sorted(counts, key=lambda c: (-counts[c], c))


def examples(corpus, window, offset=0):
    """The strings a model reads: the lines, or windows of running text from `offset`.

    A window holds `window + 1` characters, one more than the model's input:
    the last is only a target.
    """
    if corpus.mode == "lines":
        return corpus.strings
    return windows(corpus.text, window + 1, offset)


def windows(text, width, offset=0):
    """Consecutive windows of `width` characters starting at `offset` (the last may be shorter)."""
    starts = range(offset, len(text), width)
    return [text[start : start + width] for start in starts if text[start : start + width]]


def length_summary(lengths):
    """Mean, standard deviation, min, quartiles, 90th percentile and max of lengths."""
    lengths = np.asarray(lengths, dtype="float64")
    if not len(lengths):
        return {}
    quantiles = np.percentile(lengths, [0, 25, 50, 75, 90, 100])
    return {
        "count": int(len(lengths)),
        "mean": float(lengths.mean()),
        "std": float(lengths.std()),
        "min": float(quantiles[0]),
        "q25": float(quantiles[1]),
        "median": float(quantiles[2]),
        "q75": float(quantiles[3]),
        "q90": float(quantiles[4]),
        "max": float(quantiles[5]),
    }


def ks_statistic(first, second):
    """Two-sample Kolmogorov-Smirnov statistic: the largest gap between the empirical CDFs."""
    first = np.sort(np.asarray(first, dtype="float64"))
    second = np.sort(np.asarray(second, dtype="float64"))
    if not len(first) or not len(second):
        return float("nan")
    points = np.union1d(first, second)
    cdf_first = np.searchsorted(first, points, side="right") / len(first)
    cdf_second = np.searchsorted(second, points, side="right") / len(second)
    return float(np.abs(cdf_first - cdf_second).max())


class TrainingReference:
    """The training data that samples are checked against: are they new?

    For lines, a sample is in the training data if it equals a training line;
    for running text, if it occurs anywhere in the training text.
    """

    def __init__(self, corpus, description):
        self.corpus = corpus
        self.description = description
        self._lines = set(corpus.strings) if corpus.mode == "lines" else None

    def contains(self, text):
        if self._lines is not None:
            return text in self._lines
        return text in self.corpus.text

    def lengths(self):
        """Lengths of the training lines (empty for running text)."""
        return [len(line) for line in self.corpus.strings] if self._lines is not None else []


def training_reference(model_argument, path=None, mode="lines", lowercase=False):
    """The training data of a run, for novelty checks.

    Args:
        model_argument: `--model` (the `config.json` of its run directory or
            preset names the data, mode and split).
        path: A file to use instead (all of it counts as training data).
        mode: The model's mode, for `path`.
        lowercase: Whether the model folds case, for `path`.

    Returns:
        `(TrainingReference or None, note)`: None with a note saying why when
        the training data cannot be found.
    """
    import json
    from pathlib import Path

    from seqapps.files import resolve_model_path

    if path:
        return TrainingReference(load(path, mode, lowercase), f"{path}"), ""
    config_path = resolve_model_path(model_argument).parent / "config.json"
    if not config_path.is_file():
        return None, "no config.json beside the model; pass --training-data to mark new samples"
    try:
        options = json.loads(config_path.read_text(encoding="utf-8"))["options"]
        data_path = options["data"]
    except (ValueError, KeyError, TypeError):
        return None, f"{config_path} does not name the training data; pass --training-data"
    if not Path(data_path).is_file():
        return None, f"training data {data_path} not found; pass --training-data"
    corpus = load(data_path, options.get("mode", "lines"), options.get("lowercase", False))
    description = data_path
    if not options.get("dev"):
        corpus, _ = split(
            corpus, options.get("dev_fraction", 0.1), options.get("seed", 1), options.get("window")
        )
        description = f"{data_path} without its dev split"
    return TrainingReference(corpus, description), ""
