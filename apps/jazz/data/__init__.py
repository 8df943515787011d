"""Loading melodies with their chords: scores, music21's corpus and the Weimar Jazz Database.

Every source becomes a list of `Piece`s: melody tokens and chord vectors on the
`seqapps.music` grid (12 steps per quarter-note beat), step 0 on a downbeat.

Sources (`load_corpus` specs):

* a file music21 parses (MusicXML/.mxl, ABC, Humdrum, ...) or a MIDI file
  (read with mido: one part per track and channel), or a folder of them
  (searched recursively). The melody is one part (`melody_part`, or by default
  the highest busy monophonic part, see `choose_melody_part`). Chord symbols in
  the score give the chords; a score without them gets the pitch classes
  sounding in its other pitched parts at each step (drums excluded).
* `music21:<name>`: music21's bundled corpus, by composer or folder
  (`music21:leadSheet`, `music21:joplin`) or by work path
  (`music21:leadSheet/fosterBrownHair.mxl`).
* a Weimar Jazz Database folder (`index.csv`, `midi/`, `beats/`). The MIDI files
  hold the solo line only; the beats tables give beat times in seconds, bar
  numbers and chord symbols. Notes are placed on the grid by their position
  between the surrounding beat times, so the soloist's rubato follows the band's
  beat rather than the MIDI file's tempo.

Parsed pieces are cached as `.npz` files (see `load_corpus`), so later runs do
not parse again.

Modules: `pieces` (`Piece`, `CorpusReport`, `SourceError`), `parsing` (score and
MIDI files), `wjazzd` (the Weimar Jazz Database), `cache` (the parsed-corpus
cache), `corpus` (`load_corpus`) and `splits` (train/dev splits).
"""

from apps.jazz.data.cache import REPRESENTATION_VERSION, default_cache_dir
from apps.jazz.data.corpus import DEFAULT_DATA, load_corpus
from apps.jazz.data.parsing import (
    SCORE_SUFFIXES,
    choose_melody_part,
    melody_notes,
    midi_parts,
    part_events,
    part_statistics,
    score_pieces,
)
from apps.jazz.data.pieces import CorpusReport, Piece, SourceError
from apps.jazz.data.splits import split_dev, split_endings
from apps.jazz.data.wjazzd import (
    align_solo,
    is_wjazzd_dir,
    midi_note_times,
    read_beats_table,
    read_wjazzd_index,
)

__all__ = [
    "DEFAULT_DATA",
    "REPRESENTATION_VERSION",
    "SCORE_SUFFIXES",
    "CorpusReport",
    "Piece",
    "SourceError",
    "align_solo",
    "choose_melody_part",
    "default_cache_dir",
    "is_wjazzd_dir",
    "load_corpus",
    "melody_notes",
    "midi_note_times",
    "midi_parts",
    "part_events",
    "part_statistics",
    "read_beats_table",
    "read_wjazzd_index",
    "score_pieces",
    "split_dev",
    "split_endings",
]
