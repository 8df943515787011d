"""Generation from recurrent models: compiled sampling and beam search.

`RecurrentSampler` (sampler) runs a whole batch of autoregressive sampling in one
`tf.function`, `EnsembleSampler` the same from several models' averaged probabilities;
`BeamSearch` (beam_search) finds the likeliest sequences. The jazz and
names applications generate with them; both import TensorFlow only when they run.
"""

from seqapps.generation.beam_search import Beams, BeamSearch
from seqapps.generation.sampler import (
    EnsembleSampler,
    RecurrentSampler,
    Samples,
    add_sampling_arguments,
    check_sampling_options,
)

__all__ = [
    "BeamSearch",
    "Beams",
    "EnsembleSampler",
    "RecurrentSampler",
    "Samples",
    "add_sampling_arguments",
    "check_sampling_options",
]
