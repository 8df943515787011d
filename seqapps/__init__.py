"""seqapps: recurrent layers for Keras 3 and the sequence applications built on them.

Importing the package registers every seqapps layer with Keras serialization, so
`keras.saving.load_model` can rebuild models that hold them.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from seqapps import layers  # noqa: E402

__version__ = "0.1.0"

__all__ = ["layers", "__version__"]
