"""Tiny names models for the tests."""

from support.shared import shared_folder


def tiny_run(tmp_path_factory, names_file, folder_name, **options):
    """A tiny model trained through the Python API (which the script runs), built once.

    `options` are train flags as keywords, over a small fast default.
    """
    from apps import names

    settings = {"epochs": 5, "patience": 0, "units": 32, "embedding_dim": 8, "lr": 0.02}
    settings.update(batch_size=8, **options)

    def build(folder):
        names.train_model(data=str(names_file), out=str(folder / "run"), **settings)

    return shared_folder(tmp_path_factory, folder_name, build) / "run"
