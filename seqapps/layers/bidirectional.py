"""Bidirectional wrapper for the seqapps recurrent layers."""

import contextlib

import keras
from keras.src.backend.common import global_state

from seqapps.layers.recurrent import Recurrent

_SHARING_KEYS = ("shared_objects/id_to_obj_map", "shared_objects/id_to_config_map")


@contextlib.contextmanager
def _outside_object_sharing():
    """Suspend Keras's object-sharing scope (active while a model loads).

    `keras.layers.Bidirectional.__init__` copies the wrapped layer by
    serializing it twice. Inside the scope, that marks the copies as one shared
    object, keyed by `id()`; when an id is reused by a later temporary layer,
    loading returns a stale object and fails ("Forward layer and backward
    layer should have different `go_backwards` value") in some runs and not
    others. The copies made here are private to this wrapper, so they never
    need sharing.
    """
    saved = {key: global_state.get_global_attribute(key) for key in _SHARING_KEYS}
    for key in _SHARING_KEYS:
        global_state.set_global_attribute(key, None)
    try:
        yield
    finally:
        for key, value in saved.items():
            global_state.set_global_attribute(key, value)


MERGE_MODES = ("concat", "sum", "ave", "mul", None)


@keras.saving.register_keras_serializable(package="seqapps")
class Bidirectional(keras.layers.Bidirectional):
    """Runs a seqapps recurrent layer forward and a copy of it backward, then merges.

    The backward copy is built from the wrapped layer's config with
    `go_backwards` flipped, and its outputs are flipped back onto the forward
    time axis before merging, so with `return_sequences=True` step t of the
    output sees the whole sequence. With a mask, each example's backward pass
    starts at its own last real step.

        y<t> = merge(a→<t>, a←<t>)

    where merge is concatenation (`"concat"`, the default, 2 * units
    features), `"sum"`, `"ave"`, `"mul"`, or `None` (a list of both outputs).
    With `return_state=True` the forward states come first, then the backward
    ones. Weights: the forward layer's, then the backward layer's.

    Args:
        layer: A `SimpleRNN`, `GRU` or `LSTM` from `seqapps.layers`.
        merge_mode: One of `"concat"`, `"sum"`, `"ave"`, `"mul"`, `None`.
        backward_layer: Optional seqapps recurrent layer to use backward
            (it must have `go_backwards=True`).
        **kwargs: Base layer arguments.

    Example:

    >>> layer = Bidirectional(LSTM(64, return_sequences=True))
    >>> layer(np.zeros((2, 7, 16), "float32")).shape
    (2, 7, 128)
    """

    def __init__(self, layer, merge_mode="concat", backward_layer=None, **kwargs):
        for role, wrapped in (("layer", layer), ("backward_layer", backward_layer)):
            if wrapped is not None and not isinstance(wrapped, Recurrent):
                raise ValueError(
                    f"Bidirectional wraps a seqapps recurrent layer (SimpleRNN, GRU, LSTM); "
                    f"received {role}={wrapped!r}"
                )
        if merge_mode not in MERGE_MODES:
            raise ValueError(
                f"`merge_mode` must be one of {MERGE_MODES}; received merge_mode={merge_mode!r}"
            )
        with _outside_object_sharing():
            super().__init__(layer, merge_mode=merge_mode, backward_layer=backward_layer, **kwargs)
