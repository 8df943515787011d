r"""Named-entity tagging (many-to-many): tokens in, one entity tag per token out.

The scripts (`python -m apps.ner.train`, `.predict`, `.evaluate`, `.export`) call the
same functions this package exposes:

* `tokenize(text)`: CoNLL-style tokens of raw text, each with its character offsets.
* `train_model(**flags)`: train with `apps.ner.train`'s flags as keywords; returns the
  metrics written to metrics.json.
* `load(path)`: the end-to-end model of a run directory or `.keras` file.
* `tag_sentences(model, sentences)`: tags and their probabilities for token lists;
  `predict_tokens(model, sentences)` and `predict_texts(model, texts)` also return the
  entities with their offsets.
* `evaluate_file(model, path)`: entity-level scores (CoNLL's rules) on a labelled file.
* `export(model, out)`: a SavedModel that needs TensorFlow only.

The tokenizer keeps character offsets, so entities can be found in the text:

>>> from apps import ner
>>> ner.tokenize("Anna's U.S. trip: 3.5 days.")
[('Anna', 0, 4), ("'s", 4, 6), ('U.S.', 7, 11), ('trip', 12, 16), (':', 16, 17),
 ('3.5', 18, 21), ('days', 22, 26), ('.', 26, 27)]

A tiny tagger trained on a CoNLL file (a token and a tag per line) written for the
example. The file is its own dev set, so the epoch kept (the best dev F1) tags these
sentences right:

>>> import tempfile
>>> from pathlib import Path
>>> folder = tempfile.TemporaryDirectory()
>>> data = Path(folder.name) / "train.conll"
>>> pairs = [("Anna", "Paris"), ("Peter", "Berlin"), ("Maria", "Lima"), ("John", "Lagos")]
>>> lines = [f"{person} B-PER\nvisited O\n{city} B-LOC\n. O\n" for person, city in pairs * 6]
>>> _ = data.write_text("\n".join(lines))
>>> run = Path(folder.name) / "run"
>>> metrics = ner.train_model(
...     data=str(data), dev=str(data), out=str(run), epochs=5, no_export=True,
...     units=8, word_dim=8, char_dim=4, char_units=4, casing_dim=2, lr=0.05, batch_size=8,
... )
>>> sorted(metrics)
['dev', 'epoch', 'seconds', 'train_sentences']
>>> sorted(path.name for path in run.glob("*.json"))
['config.json', 'metrics.json']
>>> model = ner.load(run)
>>> [result["tags"] for result in ner.tag_sentences(model, [["Anna", "visited", "Paris", "."], []])]
[['B-PER', 'O', 'B-LOC', 'O'], []]
>>> record = ner.predict_texts(model, ["Anna visited Paris."])[0]
>>> [(e["text"], e["type"], e["start"], e["end"]) for e in record["entities"]]
[('Anna', 'PER', 0, 4), ('Paris', 'LOC', 13, 18)]
>>> ner.predict_tokens(model, [["Maria", "visited", "Lima", "."]], scheme="BIOES")[0]["tags"]
['S-PER', 'O', 'S-LOC', 'O']
>>> scores = ner.evaluate_file(model, data)
>>> scores["sentences"], scores["gold_entities"]
(24, 48)
>>> ner.export(model, Path(folder.name) / "exported").name
'exported'
>>> sorted(path.name for path in (Path(folder.name) / "exported").iterdir())
['assets', 'fingerprint.pb', 'saved_model.pb', 'variables']
>>> folder.cleanup()
"""

from seqapps.cli import lazy_api

_API = {
    "train_model": "apps.ner.train",
    "load": ("apps.ner.model", "load_model"),
    "predict_texts": "apps.ner.tagger",
    "predict_tokens": "apps.ner.tagger",
    "tag_sentences": "apps.ner.tagger",
    "evaluate_file": "apps.ner.evaluation",
    "export": "apps.ner.exporting",
    "tokenize": "apps.ner.data",
}
__all__ = sorted(_API)
__getattr__ = lazy_api("apps.ner", _API)
