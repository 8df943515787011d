"""Sentiment classification (many-to-one): text in, a class (stars or polarity) out.

The scripts `apps.sentiment.train`, `predict`, `evaluate` and `export` call
the same functions as this Python API. Its modules: `data` (tables, SST
trees and class folders; train/dev splits), `model` (vectorizer, classifier,
end-to-end model), `batches` (token-id batches for training, dev
predictions), `classify` (predictions for texts, metrics on labelled data)
and `exporting` (the SavedModel).

A tiny model trained for one epoch on a table written for the example
(`train_model` takes the train script's flags as keywords):

>>> import pathlib, tempfile
>>> from apps import sentiment
>>> folder = tempfile.TemporaryDirectory()
>>> data = pathlib.Path(folder.name) / "reviews.csv"
>>> good = [f"a {word} film,pos" for word in ("great", "lovely", "superb", "moving")]
>>> bad = [f"a {word} film,neg" for word in ("dull", "awful", "boring", "messy")]
>>> _ = data.write_text("\\n".join(["text,label", *(good + bad) * 5]) + "\\n", encoding="utf-8")
>>> metrics = sentiment.train_model(
...     data=str(data), out=f"{folder.name}/run", epochs=1, units=8, embedding_dim=8,
...     batch_size=32, no_export=True,
... )
>>> metrics["epoch"], metrics["train_examples"], metrics["dev"]["labels"]
(1, 36, ['neg', 'pos'])

`load` takes the run directory (or its `model.keras`); the model takes raw
strings and knows its class names:

>>> model = sentiment.load(f"{folder.name}/run")
>>> records = sentiment.predict_texts(model, ["a great film", "a dull film", ""])
>>> len(records), sorted(records[0])
(3, ['confidence', 'label', 'probabilities', 'text'])
>>> sorted(records[0]["probabilities"]), records[1]["label"] in ("neg", "pos")
(['neg', 'pos'], True)
>>> report = sentiment.evaluate_file(model, data)
>>> report["examples"], report["labels"], sorted(report["per_class"])
(40, ['neg', 'pos'], ['neg', 'pos'])

`export` writes a SavedModel whose `serving_default` signature takes strings:

>>> out = sentiment.export(model, pathlib.Path(folder.name) / "exported")
>>> (out / "saved_model.pb").is_file()
True
>>> folder.cleanup()
"""

from seqapps.cli import lazy_api

_API = {
    "train_model": "apps.sentiment.train",
    "load": ("seqapps.export", "load_model"),
    "predict_texts": "apps.sentiment.classify",
    "evaluate_file": "apps.sentiment.classify",
    "export": "apps.sentiment.exporting",
}
__all__ = sorted(_API)
__getattr__ = lazy_api("apps.sentiment", _API)
