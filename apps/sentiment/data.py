"""Sentiment data: CSV/TSV/JSONL tables, SST PTB trees, and one-folder-per-class text files.

Every loader returns a `LabelledTexts`: parallel lists of texts and label
names. SST trees are recognised by their content (lines that start with
`(`); their labels are the treebank's 0-4, named "very negative" ...
"very positive" (or "negative"/"positive" with `classes=2`, which drops the
neutral class as SST-2 does).
"""

import dataclasses
import re
from pathlib import Path

from seqapps.errors import UserError
from seqapps.text.tables import is_table, read_table, read_text_file

SST5_LABELS = ("very negative", "negative", "neutral", "positive", "very positive")
SST2_LABELS = ("negative", "positive")
PTB_ESCAPES = {
    "-LRB-": "(",
    "-RRB-": ")",
    "-LSB-": "[",
    "-RSB-": "]",
    "-LCB-": "{",
    "-RCB-": "}",
    "``": '"',
    "''": '"',
}


@dataclasses.dataclass
class LabelledTexts:
    """Texts with their label names, and where they came from."""

    texts: list
    labels: list
    source: str
    label_order: tuple = None  # natural class order, when the format defines one

    def __len__(self):
        return len(self.texts)


# SST PTB trees -----------------------------------------------------------------


@dataclasses.dataclass
class TreeNode:
    label: int
    children: list
    word: str = None

    def words(self):
        if self.word is not None:
            return [self.word]
        return [w for child in self.children for w in child.words()]

    def nodes(self):
        yield self
        for child in self.children:
            yield from child.nodes()


def _unescape(token):
    token = PTB_ESCAPES.get(token, token)
    return token.replace("\\/", "/").replace("\\*", "*")


def parse_tree(line, where="tree"):
    """Parse one PTB tree with a sentiment label on every node.

    A leaf is `(label word)`, where the word is everything up to the closing
    parenthesis (SST has words with a no-break space inside).

    Raises:
        UserError: Unbalanced parentheses, a missing or non-integer label, or
            trailing text; the message names `where` and the column.
    """
    position = 0
    text = line.strip()

    def fail(message):
        raise UserError(f"{where}: tree does not parse: {message} at column {position + 1}")

    def node():
        nonlocal position
        if position >= len(text) or text[position] != "(":
            fail("expected '('")
        position += 1
        match = re.compile(r"\s*(-?\d+)\s").match(text, position)
        if not match:
            fail("expected an integer label")
        label = int(match.group(1))
        position = match.end()
        while position < len(text) and text[position] == " ":
            position += 1
        if position < len(text) and text[position] == "(":
            children = []
            while position < len(text) and text[position] == "(":
                children.append(node())
                while position < len(text) and text[position] == " ":
                    position += 1
            if position >= len(text) or text[position] != ")":
                fail("expected ')'")
            position += 1
            return TreeNode(label, children)
        end = text.find(")", position)
        if end < 0:
            fail("unclosed leaf")
        word = text[position:end]
        if not word or "(" in word:
            fail("empty or malformed leaf")
        position = end + 1
        return TreeNode(label, [], _unescape(word))

    tree = node()
    if text[position:].strip():
        fail("text after the tree")
    return tree


def looks_like_trees(path):
    """True for SST-style files: the first non-empty line starts with '(' and a digit."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.strip():
                    return bool(re.match(r"\(\s*\d", line.strip()))
    except OSError:
        return False
    return False


def _map_sst_label(label, classes, where):
    if not 0 <= label <= 4:
        raise UserError(f"{where}: SST label {label} is outside 0-4")
    if classes == 5:
        return SST5_LABELS[label]
    if label == 2:
        return None
    return SST2_LABELS[int(label > 2)]


def read_sst(path, classes=5, phrases=False, unique_phrases=True):
    """Sentences (and, with `phrases`, every labelled phrase) of an SST tree file.

    With `unique_phrases`, phrases are deduplicated by text and a phrase seen
    with different labels keeps its most frequent label; otherwise every
    labelled node below the roots is an example, so frequent phrases weigh
    more. Sentences always come first.
    """
    if classes not in (2, 5):
        raise UserError(f"--classes must be 2 or 5; received {classes}")
    text = read_text_file(path)
    sentences, sentence_labels = [], []
    phrase_labels = {}
    every_phrase = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        tree = parse_tree(line, where)
        label = _map_sst_label(tree.label, classes, where)
        if label is not None:
            sentences.append(" ".join(tree.words()))
            sentence_labels.append(label)
        if phrases and not unique_phrases:
            for node in list(tree.nodes())[1:]:
                label = _map_sst_label(node.label, classes, where)
                if label is not None:
                    every_phrase.append((" ".join(node.words()), label))
        elif phrases:
            for node in tree.nodes():
                label = _map_sst_label(node.label, classes, where)
                if label is not None:
                    counts = phrase_labels.setdefault(" ".join(node.words()), {})
                    counts[label] = counts.get(label, 0) + 1
    if not sentences and not phrase_labels and not every_phrase:
        raise UserError(f"{path}: no labelled trees")
    texts, labels = list(sentences), list(sentence_labels)
    texts += [text for text, _ in every_phrase]
    labels += [label for _, label in every_phrase]
    seen = set(sentences)
    for phrase, counts in phrase_labels.items():
        if phrase not in seen:
            texts.append(phrase)
            labels.append(max(counts, key=lambda k: (counts[k], k)))
    order = SST5_LABELS if classes == 5 else SST2_LABELS
    return LabelledTexts(texts, labels, str(path), label_order=order)


# Tables and folders ------------------------------------------------------------


def read_labelled_table(path, text_col="text", label_col="label"):
    """Texts and labels from a CSV/TSV/JSONL file."""
    frame = read_table(path, [text_col, label_col])
    labels = frame[label_col].astype(str).str.strip().tolist()
    for row, label in enumerate(labels):
        if label == "":
            raise UserError(f"{path}: row {row + 1}: empty label in column {label_col!r}")
    return LabelledTexts(frame[text_col].astype(str).tolist(), labels, str(path))


def read_class_folders(path):
    """The aclImdb layout: one sub-folder of `.txt` files per class."""
    root = Path(path)
    classes = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    texts, labels = [], []
    for folder in classes:
        for file in sorted(folder.glob("*.txt")):
            texts.append(read_text_file(file).strip())
            labels.append(folder.name)
    if len({*labels}) < 2:
        raise UserError(
            f"{root}: expected one sub-folder of .txt files per class (at least two classes)"
        )
    return LabelledTexts(texts, labels, str(root))


def load(
    path, text_col="text", label_col="label", classes=5, sst_phrases=False, unique_phrases=True
):
    """Load any supported sentiment file or folder; the format follows the path."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: no such file or directory")
    if path.is_dir():
        return read_class_folders(path)
    if is_table(path):
        if sst_phrases:
            raise UserError("--sst-phrases applies to SST tree files only")
        return read_labelled_table(path, text_col, label_col)
    if looks_like_trees(path):
        return read_sst(path, classes, phrases=sst_phrases, unique_phrases=unique_phrases)
    raise UserError(
        f"{path}: unknown format; expected .csv, .tsv, .jsonl, an SST tree file, or a folder "
        "of class sub-folders"
    )


def label_names(*datasets):
    """Class names for a model: the format's own order, else numeric or alphabetical."""
    for data in datasets:
        if data.label_order:
            present = {label for d in datasets for label in d.labels}
            return [name for name in data.label_order if name in present]
    names = sorted({label for data in datasets for label in data.labels})
    try:
        return sorted(names, key=float)
    except ValueError:
        return names


def split(data, dev_fraction, seed):
    """A seeded train/dev split of one dataset (for when no --dev is given)."""
    import numpy as np

    order = np.random.default_rng(seed).permutation(len(data))
    dev_count = max(1, int(round(len(data) * dev_fraction)))
    if len(data) - dev_count < 1:
        raise UserError(f"{data.source}: too few examples ({len(data)}) to split off a dev set")
    pick = lambda idx: LabelledTexts(  # noqa: E731
        [data.texts[i] for i in idx], [data.labels[i] for i in idx], data.source, data.label_order
    )
    return pick(order[dev_count:]), pick(order[:dev_count])


def train_and_dev(options, seed):
    """The training and dev `LabelledTexts` of parsed training options, and the class names.

    Reads `data`, `dev`, `text_col`, `label_col`, `classes`, `sst_phrases`,
    `all_phrase_occurrences` and `dev_fraction`. Without `dev` the dev set is a
    split of the data, drawn with `seed`.

    Raises:
        UserError: SST phrases without a dev file (a random split would put
            parts of dev sentences in training), dev labels that training
            lacks, or fewer than two classes.
    """
    train_set = load(
        options.data,
        options.text_col,
        options.label_col,
        options.classes,
        options.sst_phrases,
        unique_phrases=not options.all_phrase_occurrences,
    )
    if options.dev:
        dev_set = load(options.dev, options.text_col, options.label_col, options.classes, False)
    elif options.sst_phrases:
        raise UserError(
            "--sst-phrases needs --dev (an SST dev file): a random split of phrases would put "
            "parts of dev sentences in training"
        )
    else:
        if not 0.0 < options.dev_fraction < 1.0:
            raise UserError(f"--dev-fraction must be in (0, 1); received {options.dev_fraction}")
        train_set, dev_set = split(train_set, options.dev_fraction, seed)
    labels = label_names(train_set)
    unseen = sorted(set(dev_set.labels) - set(labels))
    if unseen:
        raise UserError(f"{dev_set.source}: label(s) {unseen} do not occur in the training data")
    if len(labels) < 2:
        raise UserError(f"{train_set.source}: needs at least two classes; found {labels}")
    return train_set, dev_set, labels


def add_classes_argument(parser):
    """`--classes` of `predict` and `evaluate`: the number of classes to answer in."""
    parser.add_argument(
        "--classes",
        type=int,
        choices=(2, 5),
        help="answer in this many classes (default: the model's); 2 turns a five-class SST "
        "model's probabilities into negative/positive, leaving the neutral share out",
    )


def class_ids(labels, names):
    """The class index of every label, in the order of `names`."""
    import numpy as np

    index = {name: i for i, name in enumerate(names)}
    return np.array([index[label] for label in labels], dtype="int32")


def is_ordinal(labels):
    """Whether the classes are ordered ratings: SST's five names, or numbers."""
    if list(labels) in (list(SST5_LABELS), list(SST2_LABELS)):
        return True
    try:
        [float(x) for x in labels]
    except ValueError:
        return False
    return True
