"""Loading trained models and exporting SavedModels that serve raw inputs."""

import zipfile

from seqapps.errors import UserError
from seqapps.files import atomic_path, resolve_model_path

# What each app's models are called in messages.
APP_MODELS = {
    "sentiment": "a sentiment model",
    "ner": "an NER model",
    "names": "a names model",
    "jazz": "a jazz model",
}


def model_app(model):
    """Which app made `model`: `"sentiment"`, `"ner"`, `"names"`, `"jazz"`, or None.

    Told by the layers each app's model carries: NER tags and token features
    (`ClassLabels` + `TokenFeatures`), sentiment class names behind a
    `TextVectorization`, the names app's `CharVocabulary`, and the jazz
    improviser's token, step and beat embeddings and `next_token` head.
    """
    import keras

    from seqapps.layers import CharVocabulary, ClassLabels, TokenFeatures

    layers = list(getattr(model, "layers", []))

    def has(kind):
        return any(isinstance(layer, kind) for layer in layers)

    if has(ClassLabels) and has(TokenFeatures):
        return "ner"
    if has(ClassLabels) and has(keras.layers.TextVectorization):
        return "sentiment"
    if has(CharVocabulary):
        return "names"
    jazz_layers = {"token_embedding", "step_embedding", "beat_embedding", "next_token"}
    if jazz_layers <= {layer.name for layer in layers}:
        return "jazz"
    return None


def check_model_app(model, app, value="model"):
    """Raise `UserError` unless `model` was made by `app` (see `model_app`).

    The message names the app a foreign model belongs to:
    `--model runs/dinos: this is a names model (apps.names), not a sentiment model`.
    """
    found = model_app(model)
    if found == app:
        return model
    wanted = APP_MODELS[app]
    if found is None:
        raise UserError(
            f"--model {value}: not {wanted} (a Keras model named {model.name!r} that no "
            "seqapps app made)"
        )
    raise UserError(f"--model {value}: this is {APP_MODELS[found]} (apps.{found}), not {wanted}")


def load_model(value, app=None):
    """Load the model of `--model`: a run directory, a `.keras` file or a preset's name.

    Args:
        value: The `--model` value.
        app: `"sentiment"`, `"ner"`, `"names"` or `"jazz"`: refuse a model of another
            app, or one no app made (see `check_model_app`). None: any Keras model.

    Raises:
        UserError: Not a run directory, a `.keras` file or a preset, a file Keras
            cannot read, or (with `app`) another app's model; the message names it.
    """
    import seqapps

    seqapps.import_keras()  # registers the layers (deferred in an application script)
    import keras

    if app is not None and app not in APP_MODELS:
        raise ValueError(f"app must be one of {sorted(APP_MODELS)}; received {app!r}")
    path = resolve_model_path(value)
    if not zipfile.is_zipfile(path):
        raise UserError(f"--model {value}: {path} is not a Keras model file")
    try:
        model = keras.saving.load_model(path, compile=False)
    except Exception as error:  # Keras raises many types for a bad archive
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise UserError(f"--model {value}: cannot load {path}: {message}") from error
    if app is not None:
        check_model_app(model, app, value)
    return model


def write_saved_model(path, tracked, endpoints, verbose=False):
    """Write a SavedModel atomically with the given endpoints.

    Args:
        path: Output directory (replaced as a whole when the export succeeds).
        tracked: Keras models/layers whose variables the endpoints use.
        endpoints: `{name: (function, input_signature)}`; name
            `"serving_default"` becomes the default signature. Each function
            returns a dict of named tensors.
        verbose: Print Keras's export summary.
    """
    import keras

    archive = keras.export.ExportArchive()
    for item in tracked:
        archive.track(item)
    for name, (function, signature) in endpoints.items():
        archive.add_endpoint(name=name, fn=function, input_signature=signature)
    with atomic_path(path) as staging:
        archive.write_out(str(staging), verbose=verbose)
    return path


def export_script(prog, description, export, load=None, app=None):
    """The `main(argv)` of an app's export script: `--model RUN --out DIR [--overwrite]`.

    Args:
        prog: Script name (`apps.<app>.export`).
        description: `--help` text.
        export: `export(model, out)` writing the SavedModel.
        load: Loads `--model` (a run directory or `.keras` file), raising `UserError`
            (default: `load_model(value, app)`).
        app: The app whose models the script exports (see `load_model`).
    """
    if load is None:

        def load(value):
            return load_model(value, app)

    from pathlib import Path

    from seqapps.cli import make_parser, require

    def build_parser():
        parser = make_parser(prog, description)
        parser.add_argument("--model", help="run directory, .keras file or preset name")
        parser.add_argument("--out", help="SavedModel directory to write")
        parser.add_argument("--overwrite", action="store_true", help="replace an existing --out")
        return parser

    def main(argv):
        options = build_parser().parse_args(argv)
        require(options, "model", "out")
        out = Path(options.out)
        if out.exists() and not out.is_dir():
            raise UserError(f"--out {out}: exists and is not a directory")
        if out.exists() and any(out.iterdir()) and not options.overwrite:
            raise UserError(f"--out {out}: exists and is not empty; pass --overwrite to replace it")
        export(load(options.model), out)
        print(f"Wrote SavedModel {out}")

    main.build_parser = build_parser
    return main
