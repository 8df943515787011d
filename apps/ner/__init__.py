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

from seqapps.cli import lazy_api

_API = {
    "train_model": "apps.ner.train",
    "load": ("apps.ner.model", "load_model"),
    "predict_texts": "apps.ner.predict",
    "predict_tokens": "apps.ner.predict",
    "tag_sentences": "apps.ner.predict",
    "evaluate_file": "apps.ner.evaluate",
    "export": "apps.ner.export",
    "tokenize": "apps.ner.data",
}
__all__ = sorted(_API)
__getattr__ = lazy_api("apps.ner", _API)
