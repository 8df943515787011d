"""Convert, weights included, between seqapps recurrent layers and the stock Keras ones.

`from_keras(layer)` turns a `keras.layers.SimpleRNN`, `keras.layers.GRU` (either form),
`keras.layers.LSTM` or a `keras.layers.Bidirectional` of one of them into the seqapps
layer that computes the same function; `to_keras(layer)` goes the other way.
`convert_model(model, direction)` does it for every such layer of a Sequential or
Functional model, so a saved stock Keras model (`.keras`) converts to seqapps layers and
back with the same outputs. The converted layer gives the same outputs (up to float
round-off) on the same inputs, masks and initial states.

What is carried across:

* the layer arguments `return_sequences`, `return_state`, `go_backwards`, `stateful`,
  `unroll`, `zero_output_for_mask`, `activity_regularizer`, `name`, `trainable`, the
  dtype policy and, for LSTM and GRU, `use_cudnn` (`keras.layers.SimpleRNN` drops an
  `activity_regularizer` given to its constructor, so `to_keras` sets it on the layer,
  and it is lost again if the Keras layer is rebuilt from its config);
* the cell arguments `units`, `activation`, `recurrent_activation`, `use_bias`, the
  initializers, regularizers and constraints of `kernel`, `recurrent_kernel` and `bias`,
  `dropout`, `recurrent_dropout`, `seed`, `unit_forget_bias` for the LSTM and
  `reset_after` for the GRU;
* for `Bidirectional`, both the forward and the backward layer and `merge_mode`;
* when the source layer is built: its weights and, for a stateful layer, its current
  states. An unbuilt source gives an unbuilt layer with the same configuration.

Weight mapping. Both libraries keep three fused weights per cell, `kernel`
`(input_dim, gates * units)`, `recurrent_kernel` `(units, gates * units)` and `bias`,
with the gates in blocks of `units` columns:

* SimpleRNN: one block; the weights are copied as they are.
* LSTM: Keras's gate order i, f, c, o is seqapps's u, f, c, o; copied as they are.
* GRU, `reset_after=True` (Keras's default, the cuDNN form): seqapps's
  `GRU(reset_after=True)` is the same function with the same layout (blocks z, r, h;
  `bias` of shape `(2, 3 * units)`); copied as they are.
* GRU, `reset_after=False`: Keras's `GRU(reset_after=False)` has blocks z, r, h and
  computes ``h = z * h_prev + (1 - z) * hh``; seqapps's course-form `GRU` has blocks
  u, r, c and computes ``c = u * c~ + (1 - u) * c_prev``. The relevance gate r and the
  candidate (hh = c~, with the reset gate applied to the state *before* the recurrent
  matmul) are the same, and u = 1 - z. Because sigmoid(-v) = 1 - sigmoid(v), negating
  the update-gate block (the first `units` columns) of `kernel`, `recurrent_kernel` and
  `bias` turns z into u and back. This holds for `recurrent_activation` `"sigmoid"` and
  `"hard_sigmoid"` (both satisfy f(-v) = 1 - f(v)); any other recurrent activation is
  refused for this form.

Unsupported, each a `ValueError` naming the problem:

* `seqapps.layers.GRU(relevance_gate=False)` to Keras: Keras has no GRU without a reset
  gate.
* A course-form GRU whose `recurrent_activation` is not sigmoid or hard sigmoid, or whose
  weight constraints or regularizers are not invariant under the sign flip (only the
  built-in norm constraints and regularizers are; `NonNeg` and unknown custom ones are
  not). Initializers that are not symmetric around zero (`Ones`, non-zero `Constant`,
  ...) are carried over with a warning: the converted weights are exact, but freshly
  initialized ones would mirror the update gate.
* Any other layer, including subclasses of the supported classes (a subclass may change
  the computation), and a seqapps layer passed to `from_keras` or a Keras one to
  `to_keras`.

Example:

>>> keras_layer = keras.layers.GRU(8, return_sequences=True)   # Keras's default GRU
>>> keras_layer.build((None, None, 3))
>>> ours = from_keras(keras_layer)      # a seqapps.layers.GRU(reset_after=True)
>>> ours.reset_after, type(ours).__module__
(True, 'seqapps.layers.gru')
>>> back = to_keras(ours)                # a keras.layers.GRU again
>>> type(back).__name__, back.reset_after
('GRU', True)
"""

import warnings

import keras
import numpy as np
from keras import activations, constraints, initializers, ops, regularizers

from seqapps.layers import GRU, LSTM, Bidirectional, SimpleRNN

__all__ = ["convert_model", "from_keras", "to_keras"]

# Exact classes only: a subclass may change the computation.
_KERAS_TO_OURS = {
    keras.layers.SimpleRNN: SimpleRNN,
    keras.layers.GRU: GRU,
    keras.layers.LSTM: LSTM,
}
_OURS_TO_KERAS = {ours: theirs for theirs, ours in _KERAS_TO_OURS.items()}

# f(-v) == 1 - f(v) for these, which the GRU update-gate sign flip relies on.
_POINT_SYMMETRIC_GATES = (
    activations.sigmoid,
    activations.hard_sigmoid,
    ops.sigmoid,
    ops.hard_sigmoid,
)
# Regularizers and constraints that only see |w| (norms, absolute values), so they are
# unchanged when some columns of the weight change sign.
_SIGN_INVARIANT_REGULARIZERS = (
    regularizers.L1,
    regularizers.L2,
    regularizers.L1L2,
    regularizers.OrthogonalRegularizer,
)
_SIGN_INVARIANT_CONSTRAINTS = (constraints.MaxNorm, constraints.MinMaxNorm, constraints.UnitNorm)
_USE_CUDNN_VALUES = ("auto", True, False)


def from_keras(layer):
    """Converts a stock Keras recurrent layer to the equivalent seqapps layer.

    Args:
        layer: A `keras.layers.SimpleRNN`, `keras.layers.GRU` (`reset_after` either way),
            `keras.layers.LSTM`, or a `keras.layers.Bidirectional` whose forward and
            backward layers are among those.

    Returns:
        The matching `seqapps.layers` layer (`SimpleRNN`, `GRU` with the same
        `reset_after`, `LSTM` or `Bidirectional`) with the same configuration
        (`use_cudnn` included) and, if `layer` is built, built for the same input
        feature size with the same weights (for `reset_after=False` the GRU update-gate
        block negated, see the module docstring) and the same stateful states.

    Raises:
        ValueError: If `layer` is not one of the supported classes (subclasses
            included), or has a configuration seqapps cannot reproduce (for a
            `reset_after=False` GRU: a gate activation other than sigmoid or hard
            sigmoid, a constraint or regularizer that the sign flip would change).
    """
    if type(layer) is keras.layers.Bidirectional:
        return _convert_bidirectional(layer, Bidirectional, _from_keras_rnn)
    return _from_keras_rnn(layer)


def to_keras(layer, use_cudnn=None):
    """Converts a seqapps recurrent layer to the equivalent stock Keras layer.

    Args:
        layer: A `seqapps.layers.SimpleRNN`, `GRU` (with the relevance gate), `LSTM`,
            or a `seqapps.layers.Bidirectional` of them.
        use_cudnn: `None` (default: keep each layer's own `use_cudnn`), `"auto"`,
            `True` or `False`, for the Keras `LSTM` and `GRU`. `True` is refused for
            `SimpleRNN` and the course-form `GRU(reset_after=False)`, which cuDNN
            cannot run.

    Returns:
        The matching Keras layer (`keras.layers.SimpleRNN`, `GRU` with the same
        `reset_after`, `LSTM` or `Bidirectional`) with the same configuration and, if
        `layer` is built, built for the same input feature size with the same weights
        (for `reset_after=False` the GRU update-gate block negated) and the same
        stateful states.

    Raises:
        ValueError: If `layer` is not one of the supported classes, is a GRU without
            the relevance gate, is a course-form GRU with a gate activation other than
            sigmoid or hard sigmoid or a constraint or regularizer that the sign flip
            would change, or `use_cudnn` is invalid for the layer.
    """
    if use_cudnn is not None and use_cudnn not in _USE_CUDNN_VALUES:
        raise ValueError(
            f"`use_cudnn` must be one of {_USE_CUDNN_VALUES}; received use_cudnn={use_cudnn!r}"
        )

    def convert(inner, with_weights=True):
        return _to_keras_rnn(inner, use_cudnn, with_weights)

    if type(layer) is Bidirectional:
        return _convert_bidirectional(layer, keras.layers.Bidirectional, convert)
    return convert(layer)


def convert_model(model, direction="to_keras", **kwargs):
    """Clones a Sequential or Functional model, converting its recurrent layers.

    Every layer that `to_keras` (or `from_keras`) accepts is converted with it, weights
    included; every other layer is cloned from its config and given the original's
    weights. Nested Sequential/Functional models are converted recursively. The result
    is not compiled.

    Args:
        model: A built or unbuilt Sequential or Functional `keras.Model`.
        direction: `"to_keras"` (seqapps layers become Keras layers) or `"from_keras"`.
        **kwargs: Passed to the converter (`use_cudnn` for `"to_keras"`).

    Returns:
        The converted model.

    Raises:
        ValueError: If `direction` is unknown, or a recurrent layer of the converted
            kind has a configuration that cannot be converted (for instance a
            `seqapps.layers.GRU(relevance_gate=False)` with `direction="to_keras"`).
    """
    if direction == "to_keras":
        convert, convertible = to_keras, _is_ours
    elif direction == "from_keras":
        convert, convertible = from_keras, _is_keras
    else:
        raise ValueError(
            f"`direction` must be 'to_keras' or 'from_keras'; received direction={direction!r}"
        )
    copied = []

    def clone(layer):
        if convertible(layer):
            return convert(layer, **kwargs)
        new = layer.__class__.from_config(layer.get_config())
        copied.append((layer, new))
        return new

    converted = keras.models.clone_model(model, clone_function=clone, recursive=True)
    for old, new in copied:
        if isinstance(old, keras.layers.Layer) and old.weights:
            new.set_weights(old.get_weights())
    return converted


# --------------------------------------------------------------------------- helpers


def _is_keras(layer):
    if type(layer) is keras.layers.Bidirectional:
        return type(layer.forward_layer) in _KERAS_TO_OURS
    return type(layer) in _KERAS_TO_OURS


def _is_ours(layer):
    if type(layer) is Bidirectional:
        return True
    return type(layer) in _OURS_TO_KERAS


def _describe(layer):
    cls = type(layer)
    return f"{cls.__module__}.{cls.__qualname__} layer {getattr(layer, 'name', '?')!r}"


def _from_keras_rnn(layer, with_weights=True):
    target_class = _KERAS_TO_OURS.get(type(layer))
    if target_class is None:
        if type(layer) in _OURS_TO_KERAS or type(layer) is Bidirectional:
            hint = "it is already a seqapps layer (use to_keras to go the other way)"
        elif isinstance(layer, tuple(_KERAS_TO_OURS)):
            hint = "subclasses are not converted, since they may change the computation"
        else:
            hint = "only these layers can be converted"
        raise ValueError(
            "from_keras converts keras.layers.SimpleRNN, keras.layers.GRU, "
            "keras.layers.LSTM and keras.layers.Bidirectional of them; "
            f"received {_describe(layer)}: {hint}"
        )
    flip = _needs_update_gate_flip(layer)
    kwargs = _common_kwargs(layer)
    if flip:
        _check_gru_sign_flip(layer)
    if target_class is GRU:
        kwargs["relevance_gate"] = True
    target = target_class(**kwargs)
    if with_weights and layer.built:
        _build_like(layer, target)
        _copy_weights(layer, target, flip)
    return target


def _to_keras_rnn(layer, use_cudnn, with_weights=True):
    target_class = _OURS_TO_KERAS.get(type(layer))
    if target_class is None:
        if type(layer) in _KERAS_TO_OURS or type(layer) is keras.layers.Bidirectional:
            hint = "it is already a Keras layer (use from_keras to go the other way)"
        elif isinstance(layer, tuple(_OURS_TO_KERAS)):
            hint = "subclasses are not converted, since they may change the computation"
        else:
            hint = "only these layers can be converted"
        raise ValueError(
            "to_keras converts seqapps.layers.SimpleRNN, GRU, LSTM and Bidirectional of "
            f"them; received {_describe(layer)}: {hint}"
        )
    flip = _needs_update_gate_flip(layer)
    kwargs = _common_kwargs(layer)
    if target_class is keras.layers.GRU and not layer.relevance_gate:
        raise ValueError(
            f"Cannot convert {_describe(layer)} to Keras: it has relevance_gate=False "
            "(the simplified GRU), and keras.layers.GRU always has a reset gate."
        )
    if flip:
        _check_gru_sign_flip(layer)
    if use_cudnn is not None and "use_cudnn" in kwargs:
        kwargs["use_cudnn"] = use_cudnn
    if kwargs.get("use_cudnn") is True and flip:
        raise ValueError(
            f"Cannot convert {_describe(layer)} with use_cudnn=True: cuDNN runs only the "
            "reset-after GRU, and this is the course form (reset_after=False). "
            "Use use_cudnn='auto' or False."
        )
    if use_cudnn is True and target_class is keras.layers.SimpleRNN:
        raise ValueError(
            f"Cannot convert {_describe(layer)} with use_cudnn=True: Keras runs cuDNN only "
            "for LSTM and GRU(reset_after=True). Use use_cudnn='auto' or False."
        )
    target = target_class(**kwargs)
    # keras.layers.SimpleRNN accepts `activity_regularizer` but does not pass it on.
    target.activity_regularizer = kwargs["activity_regularizer"]
    if with_weights and layer.built:
        _build_like(layer, target)
        _copy_weights(layer, target, flip)
    return target


def _copy_object(module, obj):
    """A fresh instance of an initializer/regularizer/constraint, as a save/load gives."""
    if obj is None:
        return None
    try:
        return module.get(module.serialize(obj))
    except (TypeError, ValueError):  # an unregistered custom object: share it
        return obj


def _common_kwargs(layer):
    """Constructor arguments shared by the Keras and the seqapps layer of `layer`'s kind."""
    cell = layer.cell
    kwargs = {
        "units": cell.units,
        "activation": cell.activation,
        "use_bias": cell.use_bias,
        "dropout": cell.dropout,
        "recurrent_dropout": cell.recurrent_dropout,
        "seed": cell.seed,
        "return_sequences": layer.return_sequences,
        "return_state": layer.return_state,
        "go_backwards": layer.go_backwards,
        "stateful": layer.stateful,
        "unroll": layer.unroll,
        "zero_output_for_mask": layer.zero_output_for_mask,
        "activity_regularizer": _copy_object(regularizers, layer.activity_regularizer),
        "name": layer.name,
        "dtype": layer.dtype_policy,
        "trainable": layer.trainable,
    }
    for weight in ("kernel", "recurrent", "bias"):
        for module, suffix in (
            (initializers, "initializer"),
            (regularizers, "regularizer"),
            (constraints, "constraint"),
        ):
            key = f"{weight}_{suffix}"
            kwargs[key] = _copy_object(module, getattr(cell, key))
    if not isinstance(layer, (SimpleRNN, keras.layers.SimpleRNN)):
        kwargs["recurrent_activation"] = cell.recurrent_activation
    if isinstance(layer, (LSTM, keras.layers.LSTM)):
        kwargs["unit_forget_bias"] = cell.unit_forget_bias
    if isinstance(layer, (GRU, keras.layers.GRU)):
        kwargs["reset_after"] = cell.reset_after
    if isinstance(layer, (LSTM, GRU, keras.layers.LSTM, keras.layers.GRU)):
        kwargs["use_cudnn"] = layer.use_cudnn
    return kwargs


def _needs_update_gate_flip(layer):
    """Whether converting `layer` negates the GRU update gate (the reset-before form)."""
    return _is_gru(layer) and not layer.cell.reset_after


def _initializer_is_odd(initializer):
    """Whether the initializer's distribution is unchanged by negating the values."""
    if initializer is None or isinstance(
        initializer, (initializers.Zeros, initializers.VarianceScaling, initializers.Orthogonal)
    ):
        return True
    if isinstance(initializer, (initializers.RandomNormal, initializers.TruncatedNormal)):
        return initializer.mean == 0
    if isinstance(initializer, initializers.RandomUniform):
        return initializer.minval == -initializer.maxval
    if isinstance(initializer, initializers.Constant):
        return bool(np.all(np.asarray(initializer.value) == 0))
    return False


def _check_gru_sign_flip(layer):
    """Refuses a GRU whose function or training the update-gate sign flip would change."""
    cell = layer.cell
    if not any(cell.recurrent_activation is gate for gate in _POINT_SYMMETRIC_GATES):
        raise ValueError(
            f"Cannot convert {_describe(layer)}: the GRU update gates of Keras (z) and "
            "seqapps (u = 1 - z) are converted by negating the update-gate weights, which "
            "needs a recurrent_activation with f(-v) = 1 - f(v) ('sigmoid' or "
            f"'hard_sigmoid'); received recurrent_activation="
            f"{activations.serialize(cell.recurrent_activation)!r}"
        )
    for weight in ("kernel", "recurrent", "bias"):
        for suffix, allowed in (
            ("constraint", _SIGN_INVARIANT_CONSTRAINTS),
            ("regularizer", _SIGN_INVARIANT_REGULARIZERS),
        ):
            key = f"{weight}_{suffix}"
            value = getattr(cell, key)
            if value is not None and not isinstance(value, allowed):
                raise ValueError(
                    f"Cannot convert {_describe(layer)}: converting a GRU negates the "
                    f"update-gate block of its weights, and {key}={value!r} is not known to "
                    "be unchanged by that sign flip (only "
                    f"{', '.join(c.__name__ for c in allowed)} are). Remove it, convert, "
                    "and set an equivalent one on the converted layer's cell."
                )
        key = f"{weight}_initializer"
        value = getattr(cell, key)
        if not _initializer_is_odd(value):
            warnings.warn(
                f"Converting {_describe(layer)}: {key}={value!r} is not symmetric around "
                "zero, and the update gate of the converted GRU is the negation of the "
                "original's; copied weights are exact, but weights the converted layer "
                "initializes afresh would mirror the original's update gate.",
                UserWarning,
                stacklevel=4,
            )


def _build_shape(layer):
    """The `(batch, timesteps, features)` shape to build a converted copy of `layer`."""
    batch = None
    if layer.stateful and layer.states is not None:
        batch = int(keras.tree.flatten(layer.states)[0].shape[0])
    return (batch, None, int(layer.cell.kernel.shape[0]))


def _build_like(source, target):
    target.build(_build_shape(source))


def _copy_weights(source, target, flip_update_gate):
    """Copies the cell weights (and stateful states) of `source` into built `target`."""
    units = source.cell.units
    pairs = [
        (source.cell.kernel, target.cell.kernel),
        (source.cell.recurrent_kernel, target.cell.recurrent_kernel),
    ]
    if source.cell.use_bias:
        pairs.append((source.cell.bias, target.cell.bias))
    for source_weight, target_weight in pairs:
        value = np.array(ops.convert_to_numpy(source_weight))
        if tuple(value.shape) != tuple(target_weight.shape):
            raise ValueError(
                f"Cannot copy weight {source_weight.path!r} of shape {value.shape} into "
                f"{target_weight.path!r} of shape {tuple(target_weight.shape)}"
            )
        if flip_update_gate:
            value[..., :units] = -value[..., :units]
        target_weight.assign(value)
    if source.stateful and source.states is not None:
        for source_state, target_state in zip(
            keras.tree.flatten(source.states), keras.tree.flatten(target.states)
        ):
            target_state.assign(ops.convert_to_numpy(source_state))


def _convert_bidirectional(layer, wrapper_class, convert):
    """Converts both directions of a Bidirectional `layer` into `wrapper_class`."""
    # The Keras wrapper recreates its forward layer from config, so both directions are
    # converted without weights, and the weights are copied once the wrapper is built.
    forward = convert(layer.forward_layer, with_weights=False)
    backward = convert(layer.backward_layer, with_weights=False)
    target = wrapper_class(
        forward,
        merge_mode=layer.merge_mode,
        backward_layer=backward,
        name=layer.name,
        dtype=layer.dtype_policy,
        trainable=layer.trainable,
    )
    if layer.forward_layer.built and layer.backward_layer.built:
        target.build(_build_shape(layer.forward_layer))
        for source, converted in (
            (layer.forward_layer, target.forward_layer),
            (layer.backward_layer, target.backward_layer),
        ):
            _copy_weights(source, converted, _needs_update_gate_flip(source))
    return target


def _is_gru(layer):
    return type(layer) in (GRU, keras.layers.GRU)
