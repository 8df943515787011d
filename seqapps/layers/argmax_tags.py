"""Most probable tag per step, as a layer (so inference models output tag ids)."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="seqapps")
class ArgmaxTags(keras.layers.Layer):
    """Probabilities `(batch, time, tags)` -> the most probable tag id per step (int32)."""

    def call(self, probabilities):
        return ops.cast(ops.argmax(probabilities, axis=-1), "int32")

    def compute_output_spec(self, probabilities):
        return keras.KerasTensor(tuple(probabilities.shape[:2]), dtype="int32")

    def compute_mask(self, probabilities, mask=None):
        return None
