"""seqapps: recurrent layers for Keras 3 and the sequence applications built on them.

Importing the package registers every seqapps layer and loss with Keras serialization,
so `keras.saving.load_model` can rebuild models that hold them. The parts:

- `seqapps.layers`: the recurrent layers and cells, Bidirectional, CRF, `recurrent_stack`;
- `seqapps.training`: the typed training config, loop, run directories and resuming;
- `seqapps.generation`: compiled sampling and beam search;
- `seqapps.music`: melody tokens, chord symbols, MIDI/MusicXML/piano-roll writers;
- `seqapps.text`: the in-model tokenizer, vocabularies, tag schemes, input tables;
- `seqapps.interop` (stock Keras layers), `seqapps.reference` (numpy reference),
  `seqapps.losses`, `seqapps.metrics`, `seqapps.export` (loading and exporting models),
  `seqapps.cli` and `seqapps.errors` (command lines and the errors users can fix),
  `seqapps.files` (atomic writes), `seqapps.keras_compat` (every private Keras import).
"""

import os
import sys


def _import_tensorflow_quietly():
    """Import TensorFlow and Keras without TensorFlow's native start-up log lines.

    TensorFlow's C++ logging writes INFO lines (oneDNN, CUDA probing) to file
    descriptor 2 before `TF_CPP_MIN_LOG_LEVEL` takes effect, so the lines are
    captured instead; if the import fails they are shown with the error. Later
    native lines are silenced too (level 3): oneDNN reports each data type it
    hands back to Eigen as an ERROR line, though nothing failed, and a real
    failure reaches Python as an exception anyway. Set `TF_CPP_MIN_LOG_LEVEL`
    yourself to see them.
    """
    import tempfile

    if "tensorflow" in sys.modules or "TF_CPP_MIN_LOG_LEVEL" in os.environ:
        import keras  # noqa: F401
        import tensorflow  # noqa: F401

        return
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
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


def _is_application_script():
    """Whether the program is `python -m apps.<app>.<script>` (see `import_keras`)."""
    argv = getattr(sys, "orig_argv", [])
    return "-m" in argv[:-1] and argv[argv.index("-m") + 1].startswith("apps.")


def import_keras():
    """Import TensorFlow and Keras (quietly) and register seqapps's objects with Keras.

    `import seqapps` calls it, so `keras.saving.load_model` can rebuild models holding
    seqapps layers and losses. In an application script (`python -m apps.<app>.<script>`)
    it runs once the arguments have parsed (`seqapps.cli.OneLineParser`), so `--help`
    and argument errors answer without loading TensorFlow. Calling it again does nothing.
    """
    global _keras_imported
    if _keras_imported:
        return
    _import_tensorflow_quietly()
    from seqapps import layers, losses  # noqa: F401
    from seqapps.text import words  # noqa: F401

    _keras_imported = True


_keras_imported = False
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
if not _is_application_script():
    import_keras()

__version__ = "0.1.0"

__all__ = ["import_keras", "__version__"]
