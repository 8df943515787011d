"""Improvise a solo over a chord progression with a trained model.

Writes a MIDI file (track 1 `Melody`: the solo; track 2 `Chords`: the
progression as block chords), a MusicXML score and a piano-roll PNG beside it.
Chords are jazz symbols, one bar per `|`; chords in a bar share it evenly,
`%` repeats the previous bar and `N.C.` is no chord. `-` after the root means
minor (`C-7` = Cm7), `j7` or `maj7` a major seventh, `m7b5` or `ø` half-diminished.
The progression repeats until --bars bars are filled. Without --model the app's
default preset, wjazzd, is used, and stderr says so.

Examples:
  python -m apps.jazz.predict --chords "Dm7 G7 | Cmaj7" --bars 8 --out solo.mid
  python -m apps.jazz.predict --model wjazzd --chords "Dm7 G7 | Cmaj7 | Dm7 G7 | Cmaj7" \\
      --bars 16 --tempo 160 --out solo.mid
  python -m apps.jazz.predict --model wjazzd --chords-from blues.txt \\
      --primer "60 63 65 66 67" --num-outputs 3 --seed 7 --out blues.mid
"""

from pathlib import Path

from apps.jazz import generate
from apps.jazz.analysis import solo_statistics
from seqapps.cli import float_range, int_range, make_parser, positive_int, require, run_main
from seqapps.errors import UserError
from seqapps.presets import default_model


def build_parser():
    parser = make_parser("apps.jazz.predict", __doc__)
    parser.add_argument(
        "--model",
        help="run directory, .keras file or preset name (default: the app's default preset)",
    )
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
    generate.add_sampling_flags(parser, sampling)
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
    low, high = generate.TEMPO_RANGE
    output.add_argument(
        "--tempo",
        type=float_range(low, high),
        default=160.0,
        help=f"tempo in beats per minute ({low:g} to {high:g})",
    )
    output.add_argument(
        "--no-score", action="store_true", help="skip the MusicXML and piano-roll files"
    )
    return parser


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
    require(options, "out")
    options.model = options.model or default_model("jazz", "apps.jazz.predict")
    out_dir = Path(options.out).parent
    if not out_dir.is_dir():
        raise UserError(f"--out {options.out}: folder {out_dir} does not exist")
    chords, beats_per_bar = generate.read_progression(
        options.chords, options.chords_from, options.beats_per_bar
    )
    primer = generate.read_primer(options.primer)

    from seqapps.export import load_model

    model = load_model(options.model, app="jazz")
    solos = generate.improvise(
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
    for solo, path in zip(solos, output_paths(options.out, len(solos))):
        files = generate.write_solo(solo, path, score=not options.no_score)
        stats = solo_statistics(solo.tokens, solo.chords, solo.beats_per_bar)
        also = f" (+ {', '.join(f.name for f in files[1:])})" if files[1:] else ""
        print(
            f"{files[0]}: {len(solo.notes)} notes, {stats['notes_per_bar']:.1f} per bar, "
            f"chord tones {stats['chord_tone_ratio']:.2f}, "
            f"range {stats['pitch_range']} semitones{also}"
        )


if __name__ == "__main__":
    run_main(main, prog="apps.jazz.predict")
