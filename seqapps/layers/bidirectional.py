"""Bidirectional wrapper for the seqapps recurrent layers."""

import contextlib

import keras

from seqapps.keras_compat import global_state
from seqapps.layers.gru import GRU
from seqapps.layers.lstm import LSTM
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


def backward_seed(seed):
    """The dropout seed of the backward copy of a layer seeded with `seed`.

    A different stream, so the two directions drop different units; far from
    `seed + k`, the seeds that stacked layers usually take.
    """
    return (int(seed) * 1_000_003 + 524_287) % (2**31 - 1)


def _backward_copy(layer):
    """`layer` running backwards, with its own dropout seed (Keras's copy keeps the seed)."""
    config = layer.get_config()
    name = layer.name.removeprefix("backward_")
    config.update(go_backwards=not layer.go_backwards, name=f"backward_{name}")
    config["seed"] = backward_seed(layer.cell.seed)
    with _outside_object_sharing():
        return type(layer).from_config(config)


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
    ones. Weights: the forward layer's, then the backward layer's. A wrapped
    layer with a dropout `seed` gets a backward copy seeded by
    `backward_seed(seed)`, so the directions drop different units and a fixed
    seed still reproduces a run.

    Each direction is a full seqapps layer, so an `LSTM` or a
    `GRU(reset_after=True)` runs cuDNN in both directions on a GPU (see their
    `use_cudnn`).

    Args:
        layer: A `SimpleRNN`, `GRU` or `LSTM` from `seqapps.layers`.
        merge_mode: One of `"concat"`, `"sum"`, `"ave"`, `"mul"`, `None`.
        weights: Optional list of initial weights (the forward layer's, then
            the backward layer's), set when the layer is built. Keras 3 accepts
            this argument but never applies it; here it takes effect.
        backward_layer: Optional seqapps recurrent layer to use backward
            (it must have `go_backwards=True`).
        **kwargs: Base layer arguments.

    Example:

    >>> layer = Bidirectional(LSTM(64, return_sequences=True))
    >>> tuple(layer(np.zeros((2, 7, 16), "float32")).shape)
    (2, 7, 128)
    """

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
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
        if backward_layer is None and getattr(layer.cell, "seed", None) is not None:
            backward_layer = _backward_copy(layer)
        with _outside_object_sharing():
            super().__init__(
                layer,
                merge_mode=merge_mode,
                weights=weights,
                backward_layer=backward_layer,
                **kwargs,
            )

    def build(self, sequences_shape, initial_state_shape=None):
        super().build(sequences_shape, initial_state_shape)
        for layer in (self.forward_layer, self.backward_layer):
            initial = getattr(layer, "initial_weights", None)
            if initial:
                layer.set_weights(initial)
                layer.initial_weights = None

    # Keras asks these before trying a backend's fused bidirectional kernel (JAX and
    # torch have one; on TensorFlow it is not implemented and each direction runs its
    # own cuDNN call instead). They apply Keras's conditions to the seqapps layers.
    def _can_attempt_fused_lstm(self, mask, initial_state=None):
        return self._can_attempt_fused(LSTM, 4, mask, initial_state)

    def _can_attempt_fused_gru(self, mask, initial_state=None):
        return self._can_attempt_fused(GRU, 2, mask, initial_state) and all(
            layer.cell.reset_after for layer in (self.forward_layer, self.backward_layer)
        )

    def _can_attempt_fused(self, layer_class, state_count, mask, initial_state):
        if mask is not None or self.stateful:
            return False
        if initial_state is not None and len(initial_state) != state_count:
            return False
        forward, backward = self.forward_layer, self.backward_layer
        if not (isinstance(forward, layer_class) and isinstance(backward, layer_class)):
            return False
        cells = (forward.cell, backward.cell)
        return (
            all(layer.use_cudnn is not False for layer in (forward, backward))
            and not any(cell.dropout or cell.recurrent_dropout for cell in cells)
            and cells[0].units == cells[1].units
            and cells[0].activation is cells[1].activation
            and cells[0].recurrent_activation is cells[1].recurrent_activation
            and all(cell.use_bias for cell in cells)
            and forward.built
            and backward.built
        )
