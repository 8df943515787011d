"""Jazz improvisation (one-to-many): a chord progression in, an improvised solo out.

Python API (the scripts call the same functions):

    from apps import jazz
    jazz.train_model(data=["../shared/data/jazz/wjazzd"], out="runs/wjazzd")
    model = jazz.load("runs/wjazzd")
    solos = jazz.improvise(model, "Dm7 G7 | Cmaj7 | %", bars=8, temperature=0.9, seed=1)
    jazz.write_solo(solos[0], "solo.mid")  # + solo.musicxml, solo.png
    jazz.evaluate_model("runs/wjazzd")
    jazz.export(model, "exported/improviser")
"""

from seqapps.cli import lazy_api

_API = {
    "train_model": "apps.jazz.train",
    "load": ("seqapps.export", "load_model"),
    "improvise": "apps.jazz.predict",
    "write_solo": "apps.jazz.predict",
    "evaluate_model": "apps.jazz.evaluate",
    "export": "apps.jazz.export",
    "load_corpus": "apps.jazz.data",
}
__all__ = sorted(_API)
__getattr__ = lazy_api("apps.jazz", _API)
