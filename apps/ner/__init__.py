"""Named-entity tagging (many-to-many): tokens in, one entity tag per token out.

Python API (the scripts call the same functions):

    from apps import ner
    metrics = ner.train_model(data="eng.train", dev="eng.testa", out="runs/conll", epochs=3)
    model = ner.load("runs/conll")
    ner.predict_texts(model, ["EU rejects German call to boycott British lamb."])
    ner.tag_sentences(model, [["EU", "rejects", "German", "call"]])
    ner.evaluate_file(model, "eng.testa")
    ner.export(model, "exported/conll")
"""

import importlib

_API = {
    "train_model": "apps.ner.train",
    "load": "apps.ner.model",
    "predict_texts": "apps.ner.predict",
    "predict_tokens": "apps.ner.predict",
    "tag_sentences": "apps.ner.predict",
    "evaluate_file": "apps.ner.evaluate",
    "export": "apps.ner.export",
    "tokenize": "apps.ner.data",
}
__all__ = sorted(_API)


def __getattr__(name):
    # Imported on first use, so `python -m apps.ner.train` does not load the script twice.
    if name not in _API:
        raise AttributeError(f"module 'apps.ner' has no attribute {name!r}")
    module = importlib.import_module(_API[name])
    return getattr(module, "load_model" if name == "load" else name)
