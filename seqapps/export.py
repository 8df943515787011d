"""Loading trained models and exporting SavedModels that serve raw inputs."""

import zipfile

from seqapps.cli import UserError
from seqapps.files import atomic_path, resolve_model_path


def load_model(value):
    """Load the model of `--model` (a run directory or a `.keras` file).

    Raises:
        UserError: Not a run directory, not a `.keras` file, or a file Keras
            cannot read (the message names it).
    """
    import keras

    import seqapps  # noqa: F401  (registers the layers)

    path = resolve_model_path(value)
    if not zipfile.is_zipfile(path):
        raise UserError(f"--model {value}: {path} is not a Keras model file")
    try:
        return keras.saving.load_model(path, compile=False)
    except Exception as error:  # Keras raises many types for a bad archive
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise UserError(f"--model {value}: cannot load {path}: {message}") from error


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


def export_script(prog, description, export, load=load_model):
    """The `main(argv)` of an app's export script: `--model RUN --out DIR [--overwrite]`.

    Args:
        prog: Script name (`apps.<app>.export`).
        description: `--help` text.
        export: `export(model, out)` writing the SavedModel.
        load: Loads `--model` (a run directory or `.keras` file), raising `UserError`.
    """
    from pathlib import Path

    from seqapps.cli import make_parser, require

    def build_parser():
        parser = make_parser(prog, description)
        parser.add_argument("--model", help="run directory or .keras file")
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
