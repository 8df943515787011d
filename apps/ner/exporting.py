"""The SavedModel of a trained NER model, which needs TensorFlow only (no seqapps).

`export` writes two signatures, both returning IOB2 tag strings:

* `serving_default`: `text`, a batch of strings `(batch,)`. Each text is tokenized inside
  the graph by `graph_tokenize`, a simpler tokenizer than the one `apps.ner.predict_texts`
  uses (it gives no character offsets and keeps `U.S.-based` whole; see its docstring), and
  returns `tokens` `(batch, time)` ("" after the end), `lengths` `(batch,)`, `tags`
  `(batch, time)` ("" after the end) and `scores` `(batch, time)` (each tag's probability:
  CRF marginal or softmax probability; 0 after the end).
* `tag_tokens`: `tokens` `(batch, time)` padded token strings and `lengths` `(batch,)`;
  returns `tags` and `scores` as above, equal to `apps.ner.tag_sentences` on the same
  tokens.

`python -m apps.ner.export` and every training run (unless `--no-export`) call `export`.
"""


def graph_tokenize(text):
    """Tokenize strings with `tf.strings` ops; returns a `RaggedTensor` `(batch, None)`.

    Every character that is not a letter, digit, space or one of `' ’ - . , : / @ # _` is
    a token; `. , : /` are split off a word they end (a period only after two letters or a
    digit, so `U.S.` and `p.m.` stay whole), quotes and hyphens off the start or end of a
    word, and the clitics `n't 's 're 've 'll 'd 'm` off the word before them. On ordinary
    prose this gives the tokens of `apps.ner.data.tokenize`; it differs on some URLs,
    abbreviations such as `U.S.-based`, and letters joined by periods (`a.b`).
    """
    import tensorflow as tf

    def replace(value, pattern, rewrite):
        return tf.strings.regex_replace(value, pattern, rewrite)

    text = replace(text, r"([^\p{L}\p{N}\s'’\-.,:/@#_])", " \\1 ")
    for _ in range(2):  # twice: `end.,` has two marks to split off
        text = replace(text, r"([,:/])(\s|$)", " \\1\\2")
        text = replace(text, r"(\p{L}\p{L}|\p{N}|[^\p{L}\p{N}\s.])\.(\s|$)", "\\1 .\\2")
        text = replace(text, r"(^|\s)(['’\-.,:/])", "\\1\\2 ")
        text = replace(text, r"(['’\-])(\s|$)", " \\1\\2")
    text = replace(text, r"(?i)(\p{L})(n['’]t|['’](?:s|re|ve|ll|d|m))(\s|$)", "\\1 \\2\\3")
    return tf.strings.split(text)


def export(model, out):
    """Write the SavedModel of an end-to-end NER model to `out` (see the module docstring)."""
    import tensorflow as tf

    from apps.ner.model import describe
    from seqapps.export import write_saved_model
    from seqapps.text import tagging

    info = describe(model)
    names, types = info["tags"], info["entity_types"]
    type_of = {entity_type: i + 1 for i, entity_type in enumerate(types)}  # 0: O
    codes = {"O": 0, "B": 1, "I": 2, "E": 3, "S": 4}
    prefix_ids = tf.constant([codes[tagging.split_tag(t)[0]] for t in names], tf.int32)
    type_ids = tf.constant([type_of.get(tagging.split_tag(t)[1], 0) for t in names], tf.int32)
    begin_names = tf.constant([""] + [f"B-{t}" for t in types])
    inside_names = tf.constant([""] + [f"I-{t}" for t in types])

    def to_iob2(tag_ids, mask):
        # The lenient reading of `seqapps.text.tagging.spans`: a tag continues the open entity
        # iff it is I-X/E-X right after B-X/I-X; every other non-O tag begins one.
        prefix = tf.gather(prefix_ids, tag_ids)
        entity = tf.where(mask, tf.gather(type_ids, tag_ids), 0)
        previous_prefix = tf.pad(prefix[:, :-1], [[0, 0], [1, 0]])
        previous_entity = tf.pad(entity[:, :-1], [[0, 0], [1, 0]])
        continues = (
            ((prefix == 2) | (prefix == 3))
            & ((previous_prefix == 1) | (previous_prefix == 2))
            & (previous_entity == entity)
        )
        named = tf.where(continues, tf.gather(inside_names, entity), tf.gather(begin_names, entity))
        return tf.where(mask & (entity == 0), "O", named)

    def tag_tokens(tokens, lengths):
        mask = tf.sequence_mask(lengths, tf.shape(tokens)[1])
        outputs = model(tf.where(mask, tokens, ""), training=False)
        tag_ids = outputs["tag_ids"]
        scores = tf.gather(outputs["probabilities"], tag_ids, batch_dims=2)
        return {
            "tags": to_iob2(tag_ids, mask),
            "scores": tf.where(mask, scores, 0.0),
        }

    def serve(text):
        pieces = graph_tokenize(text)
        tokens = pieces.to_tensor(default_value="")
        lengths = tf.cast(pieces.row_lengths(), tf.int32)
        return {"tokens": tokens, "lengths": lengths, **tag_tokens(tokens, lengths)}

    endpoints = {
        "serving_default": (serve, [tf.TensorSpec([None], tf.string, name="text")]),
        "tag_tokens": (
            tag_tokens,
            [
                tf.TensorSpec([None, None], tf.string, name="tokens"),
                tf.TensorSpec([None], tf.int32, name="lengths"),
            ],
        ),
    }
    return write_saved_model(out, [model], endpoints)
