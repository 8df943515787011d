"""seqapps: recurrent layers for Keras 3 and the sequence applications built on them.

Importing the package registers every seqapps layer with Keras serialization, so
`keras.saving.load_model` can rebuild models that hold them.
"""

import os


def _import_tensorflow_quietly():
    """Import TensorFlow and Keras without TensorFlow's native start-up log lines.

    TensorFlow's C++ logging writes INFO lines (oneDNN, CUDA probing) to file
    descriptor 2 before `TF_CPP_MIN_LOG_LEVEL` takes effect, so the lines are
    captured instead; if the import fails they are shown with the error. Set
    `TF_CPP_MIN_LOG_LEVEL` yourself to see them.
    """
    import sys
    import tempfile

    if "tensorflow" in sys.modules or "TF_CPP_MIN_LOG_LEVEL" in os.environ:
        import keras  # noqa: F401
        import tensorflow  # noqa: F401

        return
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import keras  # noqa: F401
            import tensorflow as tf

            tf.config.list_physical_devices()
        except BaseException:
            os.dup2(saved, 2)
            captured.seek(0)
            sys.stderr.write(captured.read().decode("utf-8", "replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


os.environ.setdefault("KERAS_BACKEND", "tensorflow")
_import_tensorflow_quietly()

from seqapps import layers, losses, text  # noqa: E402

__version__ = "0.1.0"

__all__ = ["layers", "losses", "text", "__version__"]
