"""The seqapps layers: recurrent cells and layers (a cell owns the weights and one step, a layer
runs it over time), Bidirectional, the CRF and the text/character layers the apps' models use.

`recurrent_stack` builds the stack of recurrent layers a training config names.
"""

from seqapps.layers.argmax_tags import ArgmaxTags
from seqapps.layers.bidirectional import Bidirectional
from seqapps.layers.char_encoder import CharEncoder
from seqapps.layers.char_vocabulary import CharVocabulary
from seqapps.layers.class_labels import ClassLabels
from seqapps.layers.crf import CRF, CRFLoss
from seqapps.layers.gru import GRU
from seqapps.layers.gru_cell import GRUCell
from seqapps.layers.lstm import LSTM
from seqapps.layers.lstm_cell import LSTMCell
from seqapps.layers.masked_pooling import MaskedGlobalPooling1D
from seqapps.layers.recurrent import Recurrent
from seqapps.layers.recurrent_cell import RecurrentCell
from seqapps.layers.simple_rnn import SimpleRNN
from seqapps.layers.simple_rnn_cell import SimpleRNNCell
from seqapps.layers.stacking import recurrent_stack
from seqapps.layers.token_features import TokenFeatures

__all__ = [
    "ArgmaxTags",
    "CharEncoder",
    "CharVocabulary",
    "TokenFeatures",
    "Bidirectional",
    "ClassLabels",
    "CRF",
    "CRFLoss",
    "GRU",
    "GRUCell",
    "LSTM",
    "LSTMCell",
    "MaskedGlobalPooling1D",
    "Recurrent",
    "RecurrentCell",
    "SimpleRNN",
    "SimpleRNNCell",
    "recurrent_stack",
]
