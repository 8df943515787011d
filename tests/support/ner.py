"""Synthetic NER data for the tests: sentences with entities, written as CoNLL, WNUT or CSV."""

import csv
import random

from seqapps.text import tagging

ENTITIES = {
    "PER": ["John Smith", "Maria Garcia", "Wei Chen", "Anna", "Peter Brown", "Olga Ivanova"],
    "ORG": ["Acme Corp", "United Nations", "Reuters", "EU", "Globex", "Red Cross"],
    "LOC": ["Paris", "New York", "Berlin", "Lagos", "Lima", "Rio de Janeiro"],
    "MISC": ["German", "British", "French", "Olympic"],
}
TEMPLATES = [
    "{PER} visited {LOC} on Monday .",
    "{ORG} said {PER} would join the board .",
    "{MISC} officials met in {LOC} .",
    "The {ORG} report was published on Friday .",
    "{PER} works for {ORG} in {LOC} .",
    "Shares of {ORG} rose 3.5 percent .",
    "{PER} and {PER} flew to {LOC} .",
    "It rained all day .",
]


def synthetic_sentences(count, seed=0):
    """`count` sentences as `(tokens, spans)`, spans `(type, start, end)` over the tokens."""
    rng = random.Random(seed)
    sentences = []
    for _ in range(count):
        template = rng.choice(TEMPLATES)
        tokens, found = [], []
        for piece in template.split():
            if piece.startswith("{"):
                entity_type = piece[1:-1]
                words = rng.choice(ENTITIES[entity_type]).split()
                found.append((entity_type, len(tokens), len(tokens) + len(words)))
                tokens.extend(words)
            else:
                tokens.append(piece)
        sentences.append((tokens, found))
    return sentences


def tags_of(sentence, scheme="IOB2"):
    tokens, spans = sentence
    return tagging.from_spans(spans, len(tokens), scheme)


def write_conll(path, sentences, scheme="IOB1", docstart=True, columns=4):
    """CoNLL-2003 layout: `token POS chunk tag`, DOCSTART + blank line at the top."""
    lines = ["-DOCSTART- -X- O O", ""] if docstart else []
    for sentence in sentences:
        for token, tag in zip(sentence[0], tags_of(sentence, scheme)):
            extra = ["NNP", "I-NP"][: columns - 2]
            lines.append(" ".join([token, *extra, tag]))
        lines.append("")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_wnut(path, sentences, scheme="IOB2"):
    """WNUT-17 layout: `token<TAB>tag`; sentences separated alternately by "" and "\\t"."""
    lines = []
    for index, sentence in enumerate(sentences):
        for token, tag in zip(sentence[0], tags_of(sentence, scheme)):
            lines.append(f"{token}\t{tag}")
        lines.append("\t" if index % 2 else "")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_gmb_csv(path, sentences, scheme="IOB2"):
    """GMB/Kaggle layout: `Sentence #,Word,POS,Tag`, the id on a sentence's first row only."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Sentence #", "Word", "POS", "Tag"])
        for index, sentence in enumerate(sentences):
            for position, (token, tag) in enumerate(zip(sentence[0], tags_of(sentence, scheme))):
                label = f"Sentence: {index + 1}" if position == 0 else ""
                writer.writerow([label, token, "NN", tag])
    return path


# A model small enough to train in seconds, big enough to learn the synthetic data.
TINY = [
    "--units",
    "16",
    "--word-dim",
    "16",
    "--char-dim",
    "8",
    "--char-units",
    "8",
    "--casing-dim",
    "4",
    "--lr",
    "0.02",
    "--batch-size",
    "16",
    "--dropout",
    "0.1",
]
