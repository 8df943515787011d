"""Entity-level scores of a trained NER model on labelled data (CoNLL's rules).

An entity counts as found only if the prediction has the same type and exactly the same
tokens (`seqapps.text.tagging.entity_scores`; both sides converted to IOB2, so this equals
seqeval's strict IOB2 mode and conlleval).

`unseen_mentions` scores the same way only the mentions (gold and predicted) none of whose
words the model's vocabulary holds: words, as the model looks them up (lower case, digits as
0), that never occurred in its training data. That is how well the tagger generalizes to
new names, which a strong overall F1 can hide.
"""

from apps.ner import data as ner_data
from seqapps.errors import UserError
from seqapps.text import tagging


def evaluate_corpus(model, corpus, batch_size=64, conll_out=None):
    """Entity scores of `model` on a loaded `Corpus` (with tags).

    Args:
        model: An end-to-end NER model (`apps.ner.load`).
        corpus: The labelled `Corpus`; its entity types must all be known to the model.
        batch_size: Sentences per model call.
        conll_out: Optional file for `token gold predicted` lines (IOB2, a blank line
            between sentences), the input of the official conlleval script.

    Returns:
        The dict of `seqapps.text.tagging.entity_scores`, plus `data` (the corpus source) and
        `data_scheme` (its tag scheme).
    """
    from apps.ner.model import describe
    from apps.ner.tagger import tag_sentences

    description = describe(model)
    known = description["entity_types"]
    unseen = sorted(set(corpus.entity_types()) - set(known))
    if unseen:
        raise UserError(
            f"{corpus.source}: entity type(s) {unseen} were never seen by the model "
            f"(it knows {known})"
        )
    gold = corpus.converted("IOB2")
    predicted = [r["tags"] for r in tag_sentences(model, corpus.sentences, batch_size)]
    scores = tagging.entity_scores(gold, predicted)
    unseen = unseen_mention_scores(description["features"], corpus.sentences, gold, predicted)
    scores["unseen_mentions"] = unseen
    scores["data"] = corpus.source
    scores["data_scheme"] = corpus.scheme
    if conll_out:
        from seqapps.files import write_text

        lines = []
        for tokens, gold_tags, predicted_tags in zip(corpus.sentences, gold, predicted):
            lines += [f"{t} {g} {p}" for t, g, p in zip(tokens, gold_tags, predicted_tags)]
            lines.append("")
        write_text(conll_out, "\n".join(lines) + "\n")
    return scores


def unseen_mention_scores(features, sentences, gold, predicted):
    """Entity scores over the mentions whose words are all outside `features`' vocabulary."""
    import numpy as np
    import tensorflow as tf

    from apps.ner.model import normalize_words

    known = set(features.words)
    distinct = sorted({token for sentence in sentences for token in sentence})
    forms = normalize_words(tf.constant(distinct, tf.string)).numpy() if distinct else []
    is_new = {token: form.decode("utf-8") not in known for token, form in zip(distinct, forms)}
    new = [np.array([is_new[token] for token in sentence], bool) for sentence in sentences]

    def counts_mention(index, start, end):
        return bool(new[index][start:end].all())

    scores = tagging.entity_scores(gold, predicted, counts_mention)
    keys = ("precision", "recall", "f1", "gold_entities", "predicted_entities")
    return {key: scores[key] for key in (*keys, "correct_entities")}


def evaluate_file(
    model,
    path,
    word_col=None,
    tag_col=None,
    sentence_col=None,
    scheme=None,
    lenient=False,
    batch_size=64,
    conll_out=None,
):
    """Entity scores of `model` on a labelled file (any format `train` reads)."""
    corpus = ner_data.load(path, word_col, tag_col, sentence_col, scheme, lenient)
    ner_data.report_repairs(corpus)
    return evaluate_corpus(model, corpus, batch_size, conll_out)
