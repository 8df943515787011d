"""Improvise a solo over a chord progression with a trained model.

Writes a MIDI file (track 1 `Melody`: the solo; track 2 `Chords`: the
progression as block chords), a MusicXML score and a piano-roll PNG beside it.
Chords are jazz symbols, one bar per `|`; chords in a bar share it evenly,
`%` repeats the previous bar and `N.C.` is no chord. `-` after the root means
minor (`C-7` = Cm7), `j7` or `maj7` a major seventh, `m7b5` or `ø` half-diminished.
The progression repeats until --bars bars are filled.

Examples:
  python -m apps.jazz.predict --model runs/wjazzd --chords "Dm7 G7 | Cmaj7 | Dm7 G7 | Cmaj7" \\
      --bars 16 --tempo 160 --out solo.mid
  python -m apps.jazz.predict --model runs/wjazzd --chords-from blues.txt \\
      --primer "60 63 65 66 67" --num-outputs 3 --seed 7 --out blues.mid
"""

import dataclasses
import sys
from pathlib import Path

import numpy as np

from seqapps import music
from seqapps.cli import (
    UserError,
    check_flags,
    float_range,
    int_range,
    make_parser,
    non_negative_float,
    non_negative_int,
    positive_fraction,
    positive_int,
    random_seed,
    require,
    run_main,
)
from seqapps.sampling import add_sampling_arguments, check_sampling_options

PRIMER_NOTE_STEPS = music.STEPS_PER_BEAT // 2  # a primer given as pitches plays eighth notes
# The recipe's sampling (see the README's results): it applies to the choice of pitch only.
DEFAULT_TEMPERATURE = 0.8
DEFAULT_TOP_P = 0.9
# Tempos a MIDI file can hold sensibly (its tempo is microseconds per beat, at most 2**24 - 1).
TEMPO_RANGE = (4.0, 1000.0)


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


def build_parser():
    parser = make_parser("apps.jazz.predict", __doc__)
    parser.add_argument("--model", help="run directory or .keras file")
    chords = parser.add_argument_group("chords and length")
    chords.add_argument("--chords", help='the progression, e.g. "Dm7 G7 | Cmaj7 | %%"')
    chords.add_argument(
        "--chords-from",
        metavar="FILE",
        help="read the progression from a text file (same syntax as --chords) or from the "
        "chord symbols (or accompaniment) of a MIDI/MusicXML file",
    )
    chords.add_argument(
        "--bars", type=positive_int, help="bars to generate (default: the progression once)"
    )
    chords.add_argument(
        "--beats-per-bar",
        type=int_range(1, 8),
        default=None,
        help="beats per bar (default 4, or the time signature of --chords-from)",
    )
    chords.add_argument(
        "--primer",
        help="start the solo with these notes: a MIDI/MusicXML file, or MIDI pitches "
        '"60 62 64" played as eighth notes',
    )
    sampling = parser.add_argument_group("sampling")
    add_sampling_arguments(
        sampling, unit="pitches", temperature=DEFAULT_TEMPERATURE, top_p=DEFAULT_TOP_P
    )
    check_sampling_flags(parser)
    sampling.add_argument(
        "--num-outputs",
        type=positive_int,
        default=1,
        help="solos to generate (file names get -1, -2, ...)",
    )
    sampling.add_argument(
        "--no-jit", action="store_true", help="do not compile the sampling loop with XLA"
    )
    output = parser.add_argument_group("output")
    output.add_argument("--out", help="MIDI file to write (.musicxml and .png go beside it)")
    output.add_argument(
        "--tempo",
        type=float_range(*TEMPO_RANGE),
        default=160.0,
        help=f"tempo in beats per minute ({TEMPO_RANGE[0]:g} to {TEMPO_RANGE[1]:g})",
    )
    output.add_argument(
        "--no-score", action="store_true", help="skip the MusicXML and piano-roll files"
    )
    return parser


def check_sampling_flags(parser):
    """Range-check the flags of `add_sampling_arguments` while parsing."""
    return check_flags(
        parser,
        temperature=non_negative_float,
        top_k=non_negative_int,
        top_p=positive_fraction,
        seed=random_seed,
    )


def read_progression(chords=None, chords_from=None, beats_per_bar=None):
    """Chords per step (`[steps, 13]`) and beats per bar from --chords or --chords-from."""
    if (chords is None) == (chords_from is None):
        raise UserError("pass one of --chords or --chords-from")
    if chords is not None:
        meter = beats_per_bar or 4
        return music.chords_per_step(music.parse_progression(chords, meter)), meter
    path = Path(chords_from)
    if not path.is_file():
        raise UserError(f"--chords-from {path}: no such file")
    if path.suffix.lower() in (".txt", ".chords", ""):
        text = path.read_text(encoding="utf-8", errors="replace")
        lines = [line.split("#")[0] for line in text.splitlines()]
        meter = beats_per_bar or 4
        try:
            beats = music.parse_progression(" | ".join(lines), meter)
        except UserError as error:
            raise UserError(f"--chords-from {path}: {error}") from None
        return music.chords_per_step(beats), meter
    piece = _read_score(path, "--chords-from")
    return piece.chords, beats_per_bar or piece.beats_per_bar


def _read_score(path, flag):
    from apps.jazz import data

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
    from apps.jazz.model import sampler, sampler_conditions

    if isinstance(chords, str):
        chords = music.chords_per_step(music.parse_progression(chords, beats_per_bar))
    chords = np.asarray(chords, "float32")
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
    full_chords = np.resize(chords, (steps, music.CHORD_DIM)).astype("float32")
    return [Solo(tokens, full_chords, beats_per_bar, tempo) for tokens in result.tokens]


def write_solo(solo, path, score=True):
    """Write `solo` as MIDI at `path`, with `.musicxml` and `.png` beside it if `score`."""
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


def output_paths(out, count):
    """`solo.mid` for one output, `solo-1.mid`, `solo-2.mid`, ... for several."""
    out = Path(out)
    if out.suffix.lower() not in (".mid", ".midi"):
        out = out.with_suffix(out.suffix + ".mid") if out.suffix else out.with_suffix(".mid")
    if count == 1:
        return [out]
    return [out.with_name(f"{out.stem}-{index}{out.suffix}") for index in range(1, count + 1)]


def main(argv):
    options = build_parser().parse_args(argv)
    require(options, "model", "out")
    out_dir = Path(options.out).parent
    if not out_dir.is_dir():
        raise UserError(f"--out {options.out}: folder {out_dir} does not exist")
    chords, beats_per_bar = read_progression(
        options.chords, options.chords_from, options.beats_per_bar
    )
    primer = read_primer(options.primer)

    from seqapps.export import load_model

    model = load_model(options.model, app="jazz")
    solos = improvise(
        model,
        chords,
        bars=options.bars,
        beats_per_bar=beats_per_bar,
        primer=primer,
        temperature=options.temperature,
        top_k=options.top_k,
        top_p=options.top_p,
        seed=options.seed,
        num_outputs=options.num_outputs,
        tempo=options.tempo,
        jit=not options.no_jit,
    )
    from apps.jazz.evaluate import solo_statistics

    for solo, path in zip(solos, output_paths(options.out, len(solos))):
        files = write_solo(solo, path, score=not options.no_score)
        stats = solo_statistics(solo.tokens, solo.chords, solo.beats_per_bar)
        print(
            f"{files[0]}: {len(solo.notes)} notes, {stats['notes_per_bar']:.1f} per bar, "
            f"chord tones {stats['chord_tone_ratio']:.2f}, range {stats['pitch_range']} "
            f"semitones" + (f" (+ {', '.join(f.name for f in files[1:])})" if files[1:] else ""),
            file=sys.stdout,
        )


if __name__ == "__main__":
    run_main(main, prog="apps.jazz.predict")
