"""Improvising: progressions and primers in, solos out as MIDI, MusicXML and a piano roll.

`read_progression` turns `--chords` text (or a `--chords-from` file) into one
chord vector per step, `read_primer` the `--primer` into tokens; `improvise`
samples solos over a progression, `improvise_over` one solo over each of several
pieces' own chords; `write_solo` writes a `Solo`.

Chords are jazz symbols, one bar per `|`; chords in a bar share it evenly, `%`
repeats the previous bar and `N.C.` is no chord. `-` after the root means minor
(`C-7` = Cm7), `j7` or `maj7` a major seventh, `m7b5` or `ø` half-diminished (see
`seqapps.music.parse_progression`).
"""

import dataclasses
from pathlib import Path

import numpy as np

from apps.jazz import data
from apps.jazz.model import sampler, sampler_conditions
from seqapps import music
from seqapps.batching import pad
from seqapps.cli import (
    UserError,
    check_flags,
    non_negative_float,
    non_negative_int,
    positive_fraction,
    random_seed,
)
from seqapps.sampling import add_sampling_arguments, check_sampling_options

PRIMER_NOTE_STEPS = music.STEPS_PER_BEAT // 2  # a primer given as pitches plays eighth notes
# The recipe's sampling (see the README's results): it applies to the choice of pitch only.
DEFAULT_TEMPERATURE = 0.8
DEFAULT_TOP_P = 0.9
# Tempos a MIDI file can hold sensibly (its tempo is microseconds per beat, at most 2**24 - 1).
TEMPO_RANGE = (4.0, 1000.0)
# `--chords-from` files with these suffixes hold `--chords` text; others are scores.
TEXT_SUFFIXES = (".txt", ".chords", "")


@dataclasses.dataclass
class Solo:
    """A generated solo: tokens and chords per step, with its metre and tempo."""

    tokens: np.ndarray
    chords: np.ndarray
    beats_per_bar: int = 4
    tempo: float = 120.0

    @property
    def notes(self):
        return music.decode_tokens(self.tokens)


def add_sampling_flags(parser, group=None):
    """`--temperature --top-k --top-p --seed` with the recipe's defaults, checked while parsing.

    Args:
        parser: The script's `ArgumentParser`.
        group: The argument group to add them to (default: `parser`).
    """
    add_sampling_arguments(
        group or parser, unit="pitches", temperature=DEFAULT_TEMPERATURE, top_p=DEFAULT_TOP_P
    )
    return check_flags(
        parser,
        temperature=non_negative_float,
        top_k=non_negative_int,
        top_p=positive_fraction,
        seed=random_seed,
    )


def read_progression(chords=None, chords_from=None, beats_per_bar=None):
    """Chords per step and beats per bar from `--chords` text or a `--chords-from` file.

    Args:
        chords: A progression, e.g. `"Dm7 G7 | Cmaj7 | %"`.
        chords_from: A text file in the same syntax (`#` starts a comment, one or more
            bars per line), or a score/MIDI file whose chord symbols (or accompaniment)
            give the chords.
        beats_per_bar: Beats per bar (default 4, or the score's time signature).

    Returns:
        `(chords, beats_per_bar)`: float32 `[steps, 13]` and an int.

    Raises:
        UserError: Neither or both sources, a missing file, or a symbol that does not parse.
    """
    if (chords is None) == (chords_from is None):
        raise UserError("pass one of --chords or --chords-from")
    if chords_from is not None:
        path = Path(chords_from)
        if not path.is_file():
            raise UserError(f"--chords-from {path}: no such file")
        if path.suffix.lower() not in TEXT_SUFFIXES:
            piece = _read_score(path, "--chords-from")
            return piece.chords, beats_per_bar or piece.beats_per_bar
        text = path.read_text(encoding="utf-8", errors="replace")
        chords = " | ".join(line.split("#")[0] for line in text.splitlines())
    beats_per_bar = beats_per_bar or 4
    try:
        beats = music.parse_progression(chords, beats_per_bar)
    except UserError as error:
        if chords_from is None:
            raise
        raise UserError(f"--chords-from {chords_from}: {error}") from None
    return music.chords_per_step(beats), beats_per_bar


def _read_score(path, flag):
    try:
        pieces, _ = data.load_corpus([str(path)], cache_dir=False, progress=False)
    except UserError as error:
        message = str(error)
        if message.startswith(str(path)):  # already names the file
            raise UserError(f"{flag} {message}") from None
        raise UserError(f"{flag} {path}: {message}") from None
    return pieces[0]


def read_primer(primer):
    """Primer tokens from a score file or a list of MIDI pitches (eighth notes)."""
    if primer is None or str(primer).strip() == "":
        return np.zeros(0, "int32")
    words = str(primer).replace(",", " ").split()
    if all(word.lstrip("-").isdigit() for word in words):
        pitches = [int(word) for word in words]
        for pitch in pitches:
            if not music.LOWEST_PITCH <= pitch <= music.HIGHEST_PITCH:
                raise UserError(
                    f"--primer: pitch {pitch} is outside the model's range "
                    f"{music.LOWEST_PITCH}-{music.HIGHEST_PITCH}"
                )
        notes = [
            music.Note(index * PRIMER_NOTE_STEPS, PRIMER_NOTE_STEPS, pitch)
            for index, pitch in enumerate(pitches)
        ]
        return music.encode_notes(notes, len(notes) * PRIMER_NOTE_STEPS)
    path = Path(primer)
    if not path.is_file():
        raise UserError(f"--primer {primer}: neither MIDI pitches nor an existing file")
    tokens = _read_score(path, "--primer").tokens
    sounding = np.flatnonzero(tokens != music.REST)
    return tokens[: sounding[-1] + 1] if len(sounding) else tokens[:0]


def improvise(
    model,
    chords,
    bars=None,
    beats_per_bar=4,
    primer=None,
    temperature=DEFAULT_TEMPERATURE,
    top_k=0,
    top_p=DEFAULT_TOP_P,
    seed=1,
    num_outputs=1,
    tempo=120.0,
    jit=True,
):
    """Generate solos over a progression.

    Args:
        model: A trained improviser (`seqapps.export.load_model`).
        chords: A progression string (`"Dm7 G7 | Cmaj7"`) or chords per step
            `[steps, 13]`; repeated to fill `bars`.
        bars: Bars to generate (default: the progression once).
        beats_per_bar: Beats per bar.
        primer: Tokens that open every solo (see `read_primer`).
        temperature, top_k, top_p, seed: Sampling of the pitches (see
            `apps.jazz.model.sampler`); when a note starts keeps the model's
            probabilities.
        num_outputs: Solos to generate (one batch).
        tempo: Recorded in each `Solo`.
        jit: Compile the loop with XLA.

    Returns:
        A list of `Solo`s.
    """
    if isinstance(chords, str):
        chords, _ = read_progression(chords, beats_per_bar=beats_per_bar)
    steps_per_bar = music.STEPS_PER_BEAT * beats_per_bar
    if bars is None:
        bars = -(-len(chords) // steps_per_bar)
    if bars < 1:
        raise UserError(f"--bars must be >= 1; received {bars}")
    if num_outputs < 1:
        raise UserError(f"--num-outputs must be >= 1; received {num_outputs}")
    if not TEMPO_RANGE[0] <= tempo <= TEMPO_RANGE[1]:
        low, high = TEMPO_RANGE
        raise UserError(f"--tempo must be in [{low:g}, {high:g}]; received {tempo:g}")
    steps = bars * steps_per_bar
    primer = np.zeros(0, "int32") if primer is None else np.asarray(primer, "int32")
    if len(primer) > steps:
        raise UserError(
            f"the primer lasts {len(primer) / steps_per_bar:.2f} bars, longer than the "
            f"{bars} bar(s) requested"
        )
    check_sampling_options(temperature, top_k, top_p)
    # The progression repeats (or is cut) to the solo's length: the chords the model
    # hears and the ones the solo is written with.
    chords = np.resize(np.asarray(chords, "float32"), (steps, music.CHORD_DIM))
    result = sampler(model).generate(
        num_outputs,
        steps,
        conditions=sampler_conditions(chords, beats_per_bar),
        prefix=primer if len(primer) else None,
        temperature=temperature,
        top_k=top_k,
        top_p=top_p,
        seed=seed,
        jit=jit,
    )
    return [Solo(tokens, chords, beats_per_bar, tempo) for tokens in result.tokens]


def improvise_over(model, pieces, bars, zero_chords=False, **sampling):
    """One solo over the first `bars` bars of each piece's own chords (one batch).

    Args:
        model: A trained improviser.
        pieces: `apps.jazz.data.Piece`s (their chords and metre are used).
        bars: Bars per solo (fewer where a piece is shorter).
        zero_chords: Feed all-zero chord vectors instead (what the model plays
            without chords).
        **sampling: `temperature`, `top_k`, `top_p`, `seed` of `RecurrentSampler.generate`.

    Returns:
        One token array per piece, as long as its part of the piece.
    """
    lengths = [
        min(piece.steps, bars * music.STEPS_PER_BEAT * piece.beats_per_bar) for piece in pieces
    ]
    # Right-padded to the longest; a solo's steps after its own length are cut off again.
    chords = pad([piece.chords[:length] for piece, length in zip(pieces, lengths)], dtype="float32")
    if zero_chords:
        chords = np.zeros_like(chords)
    beats_per_bar = np.array([piece.beats_per_bar for piece in pieces], "float32")
    result = sampler(model).generate(
        len(pieces),
        chords.shape[1],
        conditions=sampler_conditions(chords, beats_per_bar[:, None, None]),
        **sampling,
    )
    return [tokens[:length] for tokens, length in zip(result.tokens, lengths)]


def write_solo(solo, path, score=True):
    """Write `solo` as MIDI at `path`, with `.musicxml` and `.png` beside it if `score`.

    The MIDI file's track 1 is `Melody` (the solo) and track 2 `Chords` (block
    chords, one per change); track 0 holds the tempo and time signature.

    Returns:
        The paths written, the MIDI file first.
    """
    path = Path(path)
    written = [
        music.write_midi(
            path, solo.tokens, solo.chords, tempo=solo.tempo, beats_per_bar=solo.beats_per_bar
        )
    ]
    if score:
        written.append(
            music.write_musicxml(
                path.with_suffix(".musicxml"),
                solo.tokens,
                solo.chords,
                tempo=solo.tempo,
                beats_per_bar=solo.beats_per_bar,
            )
        )
        written.append(
            music.piano_roll_png(
                path.with_suffix(".png"),
                solo.tokens,
                solo.chords,
                solo.beats_per_bar,
                title=path.stem,
            )
        )
    return [Path(p) for p in written]
