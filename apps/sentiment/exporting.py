"""The TensorFlow SavedModel of a sentiment model: raw strings in, TensorFlow only to serve.

The `serving_default` signature takes `text` (a batch of strings) and returns
`label` (class names), `class_id`, `probabilities` (batch, classes) and, for
ordered five-class models, `stars` (1-5).
"""


def export(model, out):
    """Write the SavedModel of an end-to-end sentiment model to `out`."""
    import tensorflow as tf

    from apps.sentiment.model import class_labels
    from seqapps.export import write_saved_model

    labels_layer = class_labels(model)
    names = tf.constant(labels_layer.labels)
    with_stars = labels_layer.ordinal and len(labels_layer.labels) == 5

    def serve(text):
        probabilities = model(text, training=False)
        class_id = tf.argmax(probabilities, axis=-1, output_type=tf.int32)
        outputs = {
            "label": tf.gather(names, class_id),
            "class_id": class_id,
            "probabilities": probabilities,
        }
        if with_stars:
            outputs["stars"] = class_id + 1
        return outputs

    signature = [tf.TensorSpec([None], tf.string, name="text")]
    return write_saved_model(out, [model], {"serving_default": (serve, signature)})
