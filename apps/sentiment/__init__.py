"""Sentiment classification (many-to-one): text in, a class (stars or polarity) out.

Python API (the scripts call the same functions):

    from apps import sentiment
    metrics = sentiment.train_model(data="train.csv", out="runs/demo", epochs=3)
    model = sentiment.load("runs/demo")
    sentiment.predict_texts(model, ["a gorgeous film", "dull"])
    sentiment.evaluate_file(model, "dev.csv")
    sentiment.export(model, "exported/demo")
"""

from seqapps.cli import lazy_api

_API = {
    "train_model": "apps.sentiment.train",
    "load": ("seqapps.export", "load_model"),
    "predict_texts": "apps.sentiment.predict",
    "evaluate_file": "apps.sentiment.evaluate",
    "export": "apps.sentiment.export",
}
__all__ = sorted(_API)
__getattr__ = lazy_api("apps.sentiment", _API)
