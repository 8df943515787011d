"""Stacks of seqapps recurrent layers, as the applications' models build them."""

from seqapps.layers.bidirectional import Bidirectional
from seqapps.layers.gru import GRU
from seqapps.layers.lstm import LSTM
from seqapps.layers.simple_rnn import SimpleRNN

CELL_LAYERS = {"lstm": LSTM, "gru": GRU, "rnn": SimpleRNN}


def recurrent_stack(
    config, return_sequences, name="recurrent", dropout=0.0, recurrent_dropout=None, seed=None
):
    """The recurrent layers a `seqapps.training.TrainingConfig` names.

    `config.cell` (`lstm`, `gru` or `rnn`), `config.units` and `config.layers` give the
    layers, each wrapped in `Bidirectional` when `config.bidirectional`; layer `i` is
    seeded with `seed + i` (`seed` defaults to `config.seed`), so its dropout masks
    are reproducible.

    Args:
        config: The `TrainingConfig` (or any object with those fields).
        return_sequences: Whether the last layer returns the whole sequence (the
            others always do).
        name: Prefix of the layer names (`recurrent_0`, `birecurrent_0`, ...).
        dropout: Dropout on each layer's inputs.
        recurrent_dropout: Dropout on the recurrent connections (default
            `config.recurrent_dropout`).
        seed: The first layer's seed (default `config.seed`), e.g. one per ensemble member.

    Returns:
        A list of layers to apply in order.

    >>> from seqapps.training import TrainingConfig
    >>> stack = recurrent_stack(TrainingConfig(cell="gru", units=8, layers=2), False)
    >>> [type(layer).__name__ for layer in stack], [layer.name for layer in stack]
    (['Bidirectional', 'Bidirectional'], ['birecurrent_0', 'birecurrent_1'])
    >>> [layer.return_sequences for layer in stack]
    [True, False]
    """
    if recurrent_dropout is None:
        recurrent_dropout = config.recurrent_dropout
    if seed is None:
        seed = config.seed
    layer_class = CELL_LAYERS[config.cell]
    layers = []
    for index in range(config.layers):
        last = index == config.layers - 1
        layer = layer_class(
            config.units,
            return_sequences=return_sequences or not last,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            seed=seed + index,
            name=f"{name}_{index}",
        )
        if config.bidirectional:
            layer = Bidirectional(layer, name=f"bi{name}_{index}")
        layers.append(layer)
    return layers
