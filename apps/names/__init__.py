"""Character-level language model: learns short strings, samples new ones, scores strings.

Python API (the scripts call the same functions):

    from apps import names
    metrics = names.train_model(data="dinos.txt", out="runs/dinos")
    model = names.load("runs/dinos")
    names.sample_names(model, count=10, temperature=0.8, prefix="Tyr", seed=1)
    names.beam_names(model, beam=5, prefix="Tyr")
    names.score_strings(model, ["Tyrannosaurus"])
    names.evaluate_file(model, "dev.txt")
    names.export(model, "exported/dinos")
"""

from seqapps.cli import lazy_api

_API = {
    "train_model": "apps.names.train",
    "load": ("seqapps.export", "load_model"),
    "sample_names": "apps.names.predict",
    "beam_names": "apps.names.predict",
    "score_strings": "apps.names.evaluate",
    "evaluate_file": "apps.names.evaluate",
    "export": "apps.names.export",
}
__all__ = sorted(_API)
__getattr__ = lazy_api("apps.names", _API)
