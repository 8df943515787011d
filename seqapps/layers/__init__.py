"""The seqapps recurrent layers: a cell owns the weights and one step; a layer runs it over time."""

from seqapps.layers.bidirectional import Bidirectional
from seqapps.layers.gru import GRU
from seqapps.layers.gru_cell import GRUCell
from seqapps.layers.lstm import LSTM
from seqapps.layers.lstm_cell import LSTMCell
from seqapps.layers.recurrent import Recurrent
from seqapps.layers.recurrent_cell import RecurrentCell
from seqapps.layers.simple_rnn import SimpleRNN
from seqapps.layers.simple_rnn_cell import SimpleRNNCell

__all__ = [
    "Bidirectional",
    "GRU",
    "GRUCell",
    "LSTM",
    "LSTMCell",
    "Recurrent",
    "RecurrentCell",
    "SimpleRNN",
    "SimpleRNNCell",
]
