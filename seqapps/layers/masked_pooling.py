"""Pooling over time that respects the mask."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="seqapps")
class MaskedGlobalPooling1D(keras.layers.Layer):
    """Max, mean, or both, over the unmasked steps of a `(batch, time, features)` input.

    `keras.layers.GlobalMaxPooling1D` ignores masks, so padding would win the
    max; here masked steps never count. An example with no unmasked step
    pools to zeros.

    Args:
        mode: `"max"`, `"mean"` or `"max_mean"` (both, concatenated).
        **kwargs: Base layer arguments.
    """

    MODES = ("max", "mean", "max_mean")

    def __init__(self, mode="max", **kwargs):
        if mode not in self.MODES:
            raise ValueError(f"`mode` must be one of {self.MODES}; received mode={mode!r}")
        super().__init__(**kwargs)
        self.mode = mode
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            mask = ops.ones(ops.shape(inputs)[:2], dtype="bool")
        weights = ops.cast(ops.expand_dims(mask, -1), inputs.dtype)
        pooled = []
        if self.mode in ("max", "max_mean"):
            lowest = ops.cast(
                -1e4 if inputs.dtype in ("float16", "bfloat16") else -1e9, inputs.dtype
            )
            maximum = ops.max(ops.where(weights > 0, inputs, lowest), axis=1)
            pooled.append(ops.where(ops.any(mask, axis=1, keepdims=True), maximum, 0.0))
        if self.mode in ("mean", "max_mean"):
            count = ops.maximum(ops.sum(weights, axis=1), 1.0)
            pooled.append(ops.sum(inputs * weights, axis=1) / count)
        return pooled[0] if len(pooled) == 1 else ops.concatenate(pooled, axis=-1)

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        width = input_shape[-1] * (2 if self.mode == "max_mean" and input_shape[-1] else 1)
        return (input_shape[0], width)

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}
