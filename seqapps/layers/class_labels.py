"""Keeps a classifier's class names inside the model."""

import keras


@keras.saving.register_keras_serializable(package="seqapps")
class ClassLabels(keras.layers.Layer):
    """Identity on class probabilities that stores the class names in its config.

    Placed last in a classifier, it makes the names part of the `.keras` file,
    so a loaded model can say "positive" rather than 1.

    Args:
        labels: Class names, in the order of the probability columns.
        ordinal: Whether the classes are ordered (for example 1-5 stars).
        **kwargs: Base layer arguments.
    """

    def __init__(self, labels, ordinal=False, **kwargs):
        labels = [str(label) for label in labels]
        if len(labels) < 2 or len(set(labels)) != len(labels):
            raise ValueError(f"`labels` must be at least two distinct names; received {labels}")
        super().__init__(**kwargs)
        self.labels = labels
        self.ordinal = bool(ordinal)
        self.supports_masking = True

    def call(self, probabilities):
        return probabilities

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "labels": self.labels, "ordinal": self.ordinal}
