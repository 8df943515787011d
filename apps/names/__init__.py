"""Character-level language model: learns short strings, samples new ones, scores strings.

The scripts `apps.names.train`, `predict`, `evaluate` and `export` call the
same functions as this Python API. Its modules: `data` (reading and splitting
lines or running text, the training data that samples are checked against),
`model` (the network, encoding, per-character log-probabilities, the
sampler), `batches` (training batches), `generate` (sampling, beam search,
novelty of samples), `scoring` (likelihood of strings and files) and
`exporting` (the SavedModel).

A tiny model trained for one epoch on a few names written for the example
(`train_model` takes the train script's flags as keywords):

>>> import pathlib, tempfile
>>> from apps import names
>>> folder = tempfile.TemporaryDirectory()
>>> data = pathlib.Path(folder.name) / "names.txt"
>>> syllables = ["Al", "Bra", "Cer", "Dra", "Ele"]
>>> lines = [a + b.lower() + end for a in syllables for b in syllables for end in ("don", "ops")]
>>> _ = data.write_text("\\n".join(lines) + "\\n", encoding="utf-8")
>>> metrics = names.train_model(
...     data=str(data), out=f"{folder.name}/run", epochs=1, units=8, embedding_dim=4,
...     batch_size=16, no_export=True,
... )
>>> metrics["epoch"], metrics["train_examples"], metrics["dev"]["examples"]
(1, 45, 5)
>>> sorted(metrics["dev"])
['bits_per_char', 'characters', 'examples', 'nll', 'perplexity']

`load` takes the run directory (or its `model.keras`). Samples are dicts; a
fixed seed gives the same samples, and every sample starts with the prefix:

>>> model = names.load(f"{folder.name}/run")
>>> samples = names.sample_names(model, count=4, temperature=0.8, prefix="Al", seed=1)
>>> len(samples), sorted(samples[0])
(4, ['ended', 'length', 'log_prob', 'sample'])
>>> all(s["sample"].startswith("Al") for s in samples)
True
>>> samples == names.sample_names(model, count=4, temperature=0.8, prefix="Al", seed=1)
True

Beam search returns the most likely completions, best first:

>>> beams = names.beam_names(model, beam=3, prefix="Dra")
>>> len(beams), beams[0]["log_prob"] >= beams[1]["log_prob"] >= beams[2]["log_prob"]
(3, True)

Scoring gives natural-log probabilities, per string and per character (the
end symbol last):

>>> scored = names.score_strings(model, ["Aldon"])[0]
>>> type(scored["log_prob"]), [c for c, _ in scored["characters"]]
(<class 'float'>, ['A', 'l', 'd', 'o', 'n', '<end>'])
>>> report = names.evaluate_file(model, data)
>>> report["examples"], report["characters"]
(50, 480)
>>> sorted(report)
['bits_per_char', 'characters', 'data', 'examples', 'nll', 'perplexity', 'unknown_characters']

`export` writes a SavedModel with `sample` and `score` signatures:

>>> out = names.export(model, pathlib.Path(folder.name) / "exported")
>>> (out / "saved_model.pb").is_file()
True
>>> folder.cleanup()
"""

from seqapps.cli import lazy_api

_API = {
    "train_model": "apps.names.train",
    "load": ("seqapps.export", "load_model"),
    "sample_names": "apps.names.generate",
    "beam_names": "apps.names.generate",
    "score_strings": "apps.names.scoring",
    "evaluate_file": "apps.names.scoring",
    "export": "apps.names.exporting",
}
__all__ = sorted(_API)
__getattr__ = lazy_api("apps.names", _API)
