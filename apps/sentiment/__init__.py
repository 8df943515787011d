"""Sentiment classification (many-to-one): text in, a class (stars or polarity) out.

Python API (the scripts call the same functions):

    from apps import sentiment
    metrics = sentiment.train_model(data="train.csv", out="runs/demo", epochs=3)
    model = sentiment.load("runs/demo")
    sentiment.predict_texts(model, ["a gorgeous film", "dull"])
    sentiment.evaluate_file(model, "dev.csv")
    sentiment.export(model, "exported/demo")
"""

import importlib

_API = {
    "train_model": "apps.sentiment.train",
    "load": "seqapps.export",
    "predict_texts": "apps.sentiment.predict",
    "evaluate_file": "apps.sentiment.evaluate",
    "export": "apps.sentiment.export",
}
__all__ = sorted(_API)


def __getattr__(name):
    # Imported on first use, so `python -m apps.sentiment.train` does not load
    # the script module twice.
    if name not in _API:
        raise AttributeError(f"module 'apps.sentiment' has no attribute {name!r}")
    module = importlib.import_module(_API[name])
    return getattr(module, "load_model" if name == "load" else name)
