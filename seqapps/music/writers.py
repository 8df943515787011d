"""Writing melodies: MIDI files, MusicXML scores and piano-roll pictures.

music21, mido and matplotlib are imported inside the functions, so reading and
encoding melodies needs numpy only.
"""

import numpy as np

from seqapps.files import atomic_path
from seqapps.music.chords import CHORD_DIM, chord_changes, chord_name, chord_vector, chord_voicing
from seqapps.music.tokens import STEPS_PER_BEAT, decode_tokens

MIDI_TICKS_PER_BEAT = 480


def _check_lengths(tokens, chords):
    tokens = np.asarray(tokens).reshape(-1)
    if chords is not None:
        chords = np.asarray(chords, dtype=np.float32).reshape(-1, CHORD_DIM)
        if len(chords) < len(tokens):
            pad = np.tile(chord_vector(None), (len(tokens) - len(chords), 1))
            chords = np.concatenate([chords, pad])
        chords = chords[: len(tokens)]
    return tokens, chords


def melody_score(tokens, chords=None, tempo=120, beats_per_bar=4, title=None):
    """A music21 score of a melody and its chords.

    Args:
        tokens: Melody tokens, one per step.
        chords: `[steps, CHORD_DIM]` chord vectors, or None for no chord part content.
        tempo: Beats (quarter notes) per minute.
        beats_per_bar: Quarter-note beats in a bar (time signature `beats_per_bar/4`).
        title: Score title.

    Returns:
        A `music21.stream.Score` with parts "Melody" and "Chords" (block chords,
        one per chord change, held until the next), a tempo mark and a time signature.
    """
    from fractions import Fraction

    from music21 import chord as m21chord
    from music21 import instrument, metadata, meter, note, stream
    from music21 import tempo as m21tempo

    tokens, chords = _check_lengths(tokens, chords)
    total = len(tokens)

    def quarters(steps):
        return Fraction(int(steps), STEPS_PER_BEAT)

    def new_part(name, events, make_element):
        part = stream.Part(id=name)
        part.partName = name
        voice = instrument.Instrument()
        voice.partName = voice.instrumentName = name
        part.insert(0, voice)
        part.insert(0, meter.TimeSignature(f"{beats_per_bar}/4"))
        cursor = 0
        for onset, duration, content in events:
            if onset > cursor:
                part.insert(quarters(cursor), note.Rest(quarterLength=quarters(onset - cursor)))
            element = make_element(content)
            element.quarterLength = quarters(duration)
            part.insert(quarters(onset), element)
            cursor = onset + duration
        if cursor < total:
            part.insert(quarters(cursor), note.Rest(quarterLength=quarters(total - cursor)))
        return part

    melody = new_part(
        "Melody", [(n.onset, n.duration, n.pitch) for n in decode_tokens(tokens)], note.Note
    )
    melody.insert(0, m21tempo.MetronomeMark(number=tempo))

    def block_chord(pitch_classes):
        return m21chord.Chord(chord_voicing(pitch_classes)) if pitch_classes else note.Rest()

    changes = [change for change in chord_changes(chords) if change[2]]
    accompaniment = new_part("Chords", changes, block_chord)

    score = stream.Score()
    score.insert(0, metadata.Metadata(title=title or "Melody"))
    score.insert(0, melody)
    score.insert(0, accompaniment)
    for part in score.parts:
        part.makeMeasures(inPlace=True)
        part.makeTies(inPlace=True)
    return score


def write_musicxml(path, tokens, chords=None, tempo=120, beats_per_bar=4, title=None):
    """Write `melody_score(...)` as MusicXML (atomically)."""
    score = melody_score(tokens, chords, tempo=tempo, beats_per_bar=beats_per_bar, title=title)
    with atomic_path(path) as temporary:
        score.write("musicxml", fp=str(temporary), makeNotation=True)
    return path


def midi_file(tokens, chords=None, tempo=120, beats_per_bar=4, melody_program=65, chord_program=0):
    """A `mido.MidiFile` of a melody and its chords (see `write_midi`)."""
    import mido

    tokens, chords = _check_lengths(tokens, chords)
    ticks_per_step = MIDI_TICKS_PER_BEAT // STEPS_PER_BEAT

    conductor = mido.MidiTrack()
    conductor.append(mido.MetaMessage("track_name", name="Conductor", time=0))
    conductor.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(tempo), time=0))
    conductor.append(
        mido.MetaMessage(
            "time_signature",
            numerator=int(beats_per_bar),
            denominator=4,
            clocks_per_click=24,
            notated_32nd_notes_per_beat=8,
            time=0,
        )
    )
    conductor.append(mido.MetaMessage("end_of_track", time=0))

    def note_track(name, channel, program, velocity, events):
        """`events`: (onset step, duration steps, pitches)."""
        timed = []
        for onset, duration, pitches in events:
            for pitch in pitches:
                timed.append((onset * ticks_per_step, 1, pitch))  # note-ons after offs
                timed.append(((onset + duration) * ticks_per_step, 0, pitch))
        timed.sort()
        track = mido.MidiTrack()
        track.append(mido.MetaMessage("track_name", name=name, time=0))
        track.append(mido.Message("program_change", channel=channel, program=program, time=0))
        now = 0
        for tick, is_on, pitch in timed:
            kind = "note_on" if is_on else "note_off"
            track.append(
                mido.Message(
                    kind,
                    channel=channel,
                    note=pitch,
                    velocity=velocity if is_on else 0,
                    time=tick - now,
                )
            )
            now = tick
        track.append(mido.MetaMessage("end_of_track", time=0))
        return track

    melody_events = [(n.onset, n.duration, [n.pitch]) for n in decode_tokens(tokens)]
    chord_events = [
        (onset, duration, chord_voicing(pcs))
        for onset, duration, pcs in chord_changes(chords)
        if pcs
    ]
    midi = mido.MidiFile(type=1, ticks_per_beat=MIDI_TICKS_PER_BEAT)
    midi.tracks.append(conductor)
    midi.tracks.append(note_track("Melody", 0, melody_program, 96, melody_events))
    midi.tracks.append(note_track("Chords", 1, chord_program, 64, chord_events))
    return midi


def write_midi(
    path, tokens, chords=None, tempo=120, beats_per_bar=4, melody_program=65, chord_program=0
):
    """Write a melody and its chords as a type-1 MIDI file (atomically).

    Track 0 is the conductor track (tempo and time signature `beats_per_bar/4`),
    track 1 the melody (named `Melody`, channel 1) and track 2 the chords (named
    `Chords`, channel 2, block chords held until the next change). 480 ticks per beat.

    Args:
        path: Output file.
        tokens: Melody tokens, one per step.
        chords: `[steps, CHORD_DIM]` chord vectors, or None (an empty Chords track).
        tempo: Beats per minute.
        beats_per_bar: Quarter-note beats per bar.
        melody_program: General MIDI program (0-based) of the melody (65: alto sax).
        chord_program: Program of the chords (0: acoustic grand piano).
    """
    midi = midi_file(tokens, chords, tempo, beats_per_bar, melody_program, chord_program)
    with atomic_path(path) as temporary:
        midi.save(str(temporary))
    return path


def piano_roll_png(path, tokens, chords=None, beats_per_bar=4, title=None, chord_symbols=None):
    """Draw a melody as a piano roll over its chords (atomically).

    Chord tones are shaded behind the notes; each chord change is labelled with its
    symbol above the roll, and the x axis counts bars, so the solo can be read
    against the changes.

    Args:
        path: Output `.png`.
        tokens: Melody tokens, one per step.
        chords: `[steps, CHORD_DIM]` chord vectors, or None.
        beats_per_bar: Beats per bar (bar lines and numbers).
        title: Figure title.
        chord_symbols: The symbols to write at the chord changes, one per change
            of `chord_changes(chords)` (as the progression wrote them); default
            names derived from the pitch classes (`chord_name`).

    Returns:
        `path`.
    """
    figure = piano_roll_figure(tokens, chords, beats_per_bar, title, chord_symbols)
    import matplotlib.pyplot as plt

    with atomic_path(path) as temporary:
        figure.savefig(temporary, dpi=100, format="png")
    plt.close(figure)
    return path


def piano_roll_figure(tokens, chords=None, beats_per_bar=4, title=None, chord_symbols=None):
    """The matplotlib figure `piano_roll_png` saves (see there for the arguments)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tokens, chords = _check_lengths(tokens, chords)
    notes = decode_tokens(tokens)
    total_beats = max(len(tokens) / STEPS_PER_BEAT, 1 / STEPS_PER_BEAT)
    if notes:
        low = min(n.pitch for n in notes) - 3
        high = max(n.pitch for n in notes) + 3
    else:
        low, high = 55, 79
    changes = chord_changes(chords)
    if chord_symbols is None:
        chord_symbols = [chord_name(pitch_classes) for _, _, pitch_classes in changes]
    elif len(chord_symbols) != len(changes):
        raise ValueError(
            f"chord_symbols has {len(chord_symbols)} symbols for {len(changes)} chord changes"
        )
    width = min(max(6.0, total_beats * 0.35), 40.0)
    figure, axis = plt.subplots(figsize=(width, 4.8))

    def box(onset, duration, pitch, height, **style):
        axis.add_patch(
            plt.Rectangle(
                (onset / STEPS_PER_BEAT, pitch - height / 2),
                duration / STEPS_PER_BEAT,
                height,
                linewidth=0,
                **style,
            )
        )

    for (onset, duration, pitch_classes), symbol in zip(changes, chord_symbols):
        for pitch in range(low, high + 1):
            if pitch % 12 in pitch_classes:
                box(onset, duration, pitch, 1.0, color="tab:orange", alpha=0.2)
        axis.text(
            onset / STEPS_PER_BEAT + 0.08,
            high + 0.9,
            symbol,
            fontsize=8,
            va="bottom",
            clip_on=True,
        )
        axis.axvline(onset / STEPS_PER_BEAT, color="tab:orange", linewidth=0.5, alpha=0.5)
    for onset, duration, pitch in notes:
        box(onset, duration, pitch, 0.8, color="tab:blue")
    beats = max(1, int(beats_per_bar))
    bar_starts = list(range(0, int(np.ceil(total_beats)) + 1, beats))
    for bar in bar_starts:
        axis.axvline(bar, color="0.6", linewidth=0.6)
    shown = [start for start in bar_starts if start < total_beats]
    axis.set_xticks(shown, labels=[str(index + 1) for index in range(len(shown))])
    axis.set_xlim(0, total_beats)
    axis.set_ylim(low - 0.5, high + 2.5)
    axis.set_xlabel("bar")
    axis.set_ylabel("MIDI pitch")
    axis.set_title(title or "melody (blue) over chord tones (shaded)")
    figure.tight_layout()
    return figure
