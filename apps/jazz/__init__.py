"""Jazz improvisation (one-to-many): a chord progression in, an improvised solo out.

The scripts `apps.jazz.train`, `predict`, `evaluate` and `export` call the same
functions as this Python API. Its modules: `data` (pieces from scores, MIDI,
music21's corpus and the Weimar Jazz Database; the corpus cache; train/dev
splits), `windows` (a run's pieces cut into training windows and batches, and
their likelihood), `model` (the network and its sampler), `generate` (reading
progressions and primers, improvising, writing solos), `analysis` (solo
statistics and the copy detector) and `exporting` (the SavedModel).

A progression becomes one 13-d chord vector per step (12 steps per beat), and a
solo's tokens are written as MIDI (with `.musicxml` and a `.png` piano roll
unless `score=False`):

>>> import pathlib, tempfile
>>> import numpy as np
>>> from apps import jazz
>>> from seqapps import music
>>> folder = tempfile.TemporaryDirectory()
>>> out = pathlib.Path(folder.name)
>>> chords, beats_per_bar = jazz.read_progression("Dm7 G7 | Cmaj7 | %")
>>> chords.shape, beats_per_bar
((144, 13), 4)
>>> lick = jazz.read_primer("62 65 69 72")  # eighth notes: 6 steps each
>>> len(lick), len(music.decode_tokens(lick))
(24, 4)
>>> solo = jazz.Solo(lick, chords[: len(lick)], beats_per_bar, tempo=160)
>>> [path.name for path in jazz.write_solo(solo, out / "lick.mid", score=False)]
['lick.mid']

A tiny improviser trained for one epoch on a lead sheet that ships with music21
(no download; `train_model` takes the train script's flags as keywords). With a
single piece, its last bars are the dev set:

>>> metrics = jazz.train_model(
...     data=["music21:leadSheet/fosterBrownHair.mxl"], out=str(out / "run"),
...     cache_dir=str(out / "cache"), epochs=1, units=8, layers=1, embedding_dim=4,
...     window_bars=4, no_export=True,
... )
>>> metrics["epoch"], metrics["train_pieces"], metrics["dev_pieces"]
(1, 1, 1)

`load` takes the run directory. `improvise` repeats the progression to fill
`bars`, opens every solo with the primer, and gives the same solos for the
same seed:

>>> model = jazz.load(out / "run")
>>> solos = jazz.improvise(model, chords, bars=4, primer=lick, seed=1, num_outputs=2)
>>> [solo.tokens.shape for solo in solos]
[(192,), (192,)]
>>> all(np.array_equal(solo.tokens[: len(lick)], lick) for solo in solos)
True
>>> again = jazz.improvise(model, "Dm7 G7 | Cmaj7 | %", bars=4, primer=lick, seed=1)
>>> np.array_equal(again[0].tokens, solos[0].tokens)
True
>>> [path.name for path in jazz.write_solo(solos[0], out / "solo.mid")]
['solo.mid', 'solo.musicxml', 'solo.png']

`evaluate_model` rebuilds the run's dev split from its `config.json` and
compares solos improvised over the dev chords with the real ones:

>>> result = jazz.evaluate_model(out / "run", bars=4)
>>> sorted(result["generated"])[:4]
['chord_tone_ratio', 'longest_copy_bars', 'longest_copy_notes', 'notes']

`export` writes a SavedModel whose `serving_default` signature generates tokens
with TensorFlow only:

>>> saved = jazz.export(model, out / "exported")
>>> (saved / "saved_model.pb").is_file()
True
>>> folder.cleanup()
"""

from seqapps.cli import lazy_api

_API = {
    "train_model": "apps.jazz.train",
    "load": ("seqapps.export", "load_model"),
    "read_progression": "apps.jazz.generate",
    "read_primer": "apps.jazz.generate",
    "improvise": "apps.jazz.generate",
    "Solo": "apps.jazz.generate",
    "write_solo": "apps.jazz.generate",
    "evaluate_model": "apps.jazz.evaluate",
    "export": "apps.jazz.exporting",
    "load_corpus": "apps.jazz.data",
}
__all__ = sorted(_API)
__getattr__ = lazy_api("apps.jazz", _API)
