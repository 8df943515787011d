"""The jazz scripts end to end: train on music21's bundled corpus, improvise, evaluate, export."""

import argparse
import json
import shutil
import textwrap

import mido
import numpy as np
import pytest
from support.cli import check_one_line, run, run_python

from seqapps import music
from seqapps.cli import run_main


def predict_cli(capsys, run_dir, out, *argv):
    """`(exit status, stderr)` of `python -m apps.jazz.predict --model RUN ARGV --out OUT`."""
    from apps.jazz import predict

    return run(capsys, predict, ["--model", str(run_dir), *argv, "--out", str(out)])


@pytest.fixture(scope="module")
def jazz_run(tmp_path_factory):
    """A tiny improviser trained through the script on the default (bundled) corpus."""
    base = tmp_path_factory.mktemp("jazz")
    out = base / "run"
    run_python(
        ["-m", "apps.jazz.train", "--out", str(out), "--cache-dir", str(base / "cache")]
        + ["--epochs", "2", "--units", "16", "--layers", "1", "--window-bars", "4"]
        + ["--embedding-dim", "8"]
    )
    return out


@pytest.mark.slow
def test_run_directory(jazz_run):
    names = {p.name for p in jazz_run.iterdir()}
    assert {"model.keras", "config.json", "metrics.json", "history.csv", "curves.png"} <= names
    assert "saved_model" in names and "checkpoint" not in names
    metrics = json.loads((jazz_run / "metrics.json").read_text())
    assert metrics["train_pieces"] >= 1 and metrics["dev_pieces"] >= 1
    assert 0 < metrics["dev"]["nll"] < np.log(70)
    config = json.loads((jazz_run / "config.json").read_text())
    assert config["representation"]["steps_per_beat"] == 12


@pytest.mark.slow
def test_generated_midi_reads_back_with_tracks_bars_and_tempo(jazz_run, run_python, tmp_path):
    out = tmp_path / "solo.mid"
    result = run_python(
        [
            "-m",
            "apps.jazz.predict",
            "--model",
            str(jazz_run),
            "--chords",
            "Dm7 G7 | Cmaj7 | C-7 F7 | Bbj7",
            "--bars",
            "6",
            "--tempo",
            "132",
            "--primer",
            "62 65 69",
            "--seed",
            "3",
            "--out",
            str(out),
        ]
    )
    assert str(out) in result.stdout
    assert out.with_suffix(".musicxml").is_file()
    assert out.with_suffix(".png").read_bytes()[:4] == b"\x89PNG"

    midi = mido.MidiFile(out)
    names = [next((m.name for m in track if m.type == "track_name"), None) for track in midi.tracks]
    with_notes = [
        name for name, track in zip(names, midi.tracks) if any(m.type == "note_on" for m in track)
    ]
    assert with_notes == ["Melody", "Chords"]
    tempos = [m.tempo for track in midi.tracks for m in track if m.type == "set_tempo"]
    assert [round(mido.tempo2bpm(t)) for t in tempos] == [132]
    signatures = [
        (m.numerator, m.denominator) for t in midi.tracks for m in t if m.type == "time_signature"
    ]
    assert signatures == [(4, 4)]
    ticks = max(sum(m.time for m in track) for track in midi.tracks)
    assert ticks == 6 * 4 * midi.ticks_per_beat
    # The primer opens the melody as eighth notes.
    melody = midi.tracks[names.index("Melody")]
    onsets = [m.note for m in melody if m.type == "note_on" and m.velocity > 0]
    assert onsets[:3] == [62, 65, 69]

    import music21

    score = music21.converter.parse(str(out))
    assert len(score.parts) == 2
    measures = score.parts[0].getElementsByClass(music21.stream.Measure)
    assert len(measures) == 6
    chord_part = score.parts[1].flatten().getElementsByClass(music21.chord.Chord)
    first = {p.pitchClass for p in chord_part[0].pitches}
    assert first == {2, 5, 9, 0}  # Dm7


@pytest.mark.slow
def test_num_outputs_write_numbered_files_and_differ(jazz_run, capsys, tmp_path):

    code, err = predict_cli(
        capsys,
        jazz_run,
        str(tmp_path / "blues.mid"),
        "--chords",
        "C7 | F7 | C7 | G7",
        "--num-outputs",
        "2",
        "--no-score",
    )
    assert code in (0, None), err
    first, second = (mido.MidiFile(tmp_path / f"blues-{i}.mid") for i in (1, 2))
    notes = [[m.note for m in f.tracks[1] if m.type == "note_on"] for f in (first, second)]
    assert notes[0] != notes[1]
    assert not (tmp_path / "blues-1.png").exists()


@pytest.mark.slow
@pytest.mark.parametrize(
    "argv, fragments",
    [
        (["--chords", "Dm7 H7 | C"], ["H7", "bar 1"]),
        (["--chords", "Dm7 G7", "--bars", "0"], ["--bars", "0"]),
        (["--chords", "C7", "--bars", "1", "--primer", " ".join(["60"] * 9)], ["primer"]),
        (["--chords", "C7", "--primer", "12"], ["12"]),
        (["--chords", "C7", "--temperature", "-1"], ["temperature"]),
        (["--chords-from", "missing.txt"], ["missing.txt"]),
        ([], ["--chords"]),
    ],
)
def test_predict_bad_input_is_one_clear_line(jazz_run, capsys, tmp_path, argv, fragments):

    code, err = predict_cli(capsys, jazz_run, tmp_path / "x.mid", *argv)
    check_one_line(code, err, *fragments)
    assert not list(tmp_path.iterdir())


@pytest.mark.slow
def test_chords_from_lead_sheet_text(jazz_run, capsys, tmp_path):

    sheet = tmp_path / "blues.txt"
    sheet.write_text("# a blues in F\nF7 | Bb7 | F7 | % \nBb7 | % | F7 | D7\n")
    code, err = predict_cli(
        capsys, jazz_run, str(tmp_path / "f.mid"), "--chords-from", str(sheet), "--no-score"
    )
    assert code in (0, None), err
    midi = mido.MidiFile(tmp_path / "f.mid")
    assert sum(m.time for m in midi.tracks[1]) <= 8 * 4 * midi.ticks_per_beat


@pytest.mark.slow
def test_evaluate_reports_likelihood_and_solo_statistics(jazz_run, capsys):
    from apps.jazz import evaluate

    code, err = run(capsys, evaluate, ["--model", str(jazz_run), "--bars", "4"])
    assert code in (0, None), err
    assert "chord_tone_ratio" in err
    assert "chord-scale tones (MINGUS)" in err and "pitch-class hist. KL" in err


@pytest.mark.slow
def test_evaluate_api_against_real_statistics(jazz_run):
    from apps.jazz.evaluate import evaluate_model

    result = evaluate_model(str(jazz_run), bars=4, seed=2)
    assert result["likelihood"]["nll"] > 0 and 0 <= result["likelihood"]["accuracy"] <= 1
    for side in ("real", "generated", "chords_zeroed"):
        assert 0 <= result[side]["chord_tone_ratio"] <= 1
        assert result[side]["scale_tone_ratio"] >= result[side]["chord_tone_ratio"]
    assert set(result["targets"]) >= {"chord_tone_ratio_at_least_real"}
    # A real dev solo copies itself from nowhere: its pieces are not in training.
    assert result["real"]["longest_copy_notes"] >= 1


@pytest.mark.slow
def test_evaluate_reports_the_literature_measures(jazz_run):
    from apps.jazz import literature_metrics, windows
    from apps.jazz.evaluate import UNTEMPERED, evaluate_model

    result = evaluate_model(str(jazz_run), bars=4, seed=2)
    literature = result["literature"]
    assert set(literature) == {"real", "generated", "untempered", "chords_zeroed"}
    # The real solos' coherence is MINGUS's measure of the dev split's first 4 bars.
    recorded = json.loads((jazz_run / "config.json").read_text())["options"]
    _, dev = windows.split_pieces(argparse.Namespace(**recorded), recorded["seed"])
    steps = [4 * piece.beats_per_bar * music.STEPS_PER_BEAT for piece in dev]
    real = [literature_metrics.Solo(p.tokens[:n], p.chords[:n]) for p, n in zip(dev, steps)]
    expected = literature_metrics.harmonic_coherence(real)
    assert literature["real"]["chord_tone_share"] == pytest.approx(expected["chord_tone_share"])
    assert literature["real"]["notes"] == expected["notes"] > 0
    for side in ("generated", "untempered", "chords_zeroed"):
        shares = literature[side]["harmonic_coherence"]["generated"]
        assert 0 <= shares["chord_tone_share"] <= shares["scale_tone_share"] <= 1
        assert "total_pitch_class_histogram" in literature[side]["mgeval"]
    assert UNTEMPERED == {"temperature": 1.0, "top_k": 0, "top_p": 1.0}
    assert {"chord_tone_share_at_least_mingus_and_real", "pitch_class_kl_at_most_mingus"} <= set(
        result["targets"]
    )


@pytest.mark.slow
def test_train_refuses_bidirectional_and_used_directory(jazz_run, capsys):
    from apps.jazz import train

    code, err = run(capsys, train, ["--out", str(jazz_run)])
    check_one_line(code, err, "--overwrite")
    code, err = run(capsys, train, ["--out", str(jazz_run) + "-bi", "--bidirectional"])
    check_one_line(code, err, "--bidirectional")


@pytest.mark.slow
def test_saved_model_generates_without_seqapps(jazz_run, run_python, tmp_path):
    """The exported generator runs with TensorFlow only and matches the in-process sampler."""
    from seqapps import music

    chords = music.chords_per_step(music.parse_progression("Dm7 G7 | Cmaj7"))
    np.save(tmp_path / "chords.npy", chords)
    script = textwrap.dedent(
        f"""
        import sys
        import numpy as np
        import tensorflow as tf
        loaded = tf.saved_model.load({str(jazz_run / "saved_model")!r})
        chords = tf.constant(np.load({str(tmp_path / "chords.npy")!r}))
        out = loaded.signatures["serving_default"](
            chords=chords, steps=tf.constant(96), temperature=tf.constant(0.8),
            top_p=tf.constant(0.9), seed=tf.constant(4), beats_per_bar=tf.constant(4))
        np.save({str(tmp_path / "tokens.npy")!r}, out["tokens"].numpy())
        assert not any(name.startswith(("seqapps", "apps")) for name in sys.modules)
        """
    )
    run_python(["-c", script], env={"PYTHONPATH": ""})
    served = np.load(tmp_path / "tokens.npy")
    assert served.shape == (96,)

    from apps.jazz.model import sampler, sampler_conditions
    from seqapps.export import load_model

    model = load_model(str(jazz_run))
    expected = sampler(model).generate(
        1, 96, conditions=sampler_conditions(chords, 4), temperature=0.8, top_p=0.9, seed=4
    )
    np.testing.assert_array_equal(served, expected.tokens[0])
    # The documented decoder turns the ids into MIDI without the training code.
    path = music.write_midi(tmp_path / "served.mid", served, chords, tempo=120, beats_per_bar=4)
    assert mido.MidiFile(path).tracks[1].name == "Melody"


@pytest.mark.slow
def test_compiled_improviser_equals_step_by_step_greedy_reference(jazz_run):
    """At temperature 0 the compiled loop picks what the teacher-forced model ranks first.

    The reference feeds the solo's own tokens back, so one float-level tie (the compiled
    step and the full-sequence pass round differently) cannot derail the comparison; a
    pick whose logit is not within rounding of the best one fails.
    """
    from apps.jazz.generate import improvise
    from apps.jazz.model import metrical_positions, sampler, sampler_conditions
    from seqapps import music
    from seqapps.export import load_model

    model = load_model(str(jazz_run))
    assert sampler(model).head_sees_inputs
    chords = music.chords_per_step(music.parse_progression("F7 | Bb7 | C-7", 3))
    primer = music.encode_notes([music.Note(0, 6, 65), music.Note(6, 6, 69)], 12)
    steps = 3 * 12 * 3
    solo = improvise(model, chords, bars=3, beats_per_bar=3, primer=primer, temperature=0.0)[0]
    assert len(solo.tokens) == steps
    np.testing.assert_array_equal(solo.tokens[: len(primer)], primer)

    sequence = [music.START, *(int(token) for token in solo.tokens)]
    step_in_beat, beat_in_bar = metrical_positions(len(sequence), 3)
    logits = model(
        [
            np.array([sequence]),
            np.resize(chords, (len(sequence), music.CHORD_DIM))[np.newaxis],
            step_in_beat[np.newaxis],
            beat_in_bar[np.newaxis],
        ]
    ).numpy()[0, len(primer) : steps]
    picked = solo.tokens[len(primer) :]
    shortfall = logits.max(axis=-1) - np.take_along_axis(logits, picked[:, None], -1)[:, 0]
    assert shortfall.max() < 1e-4, f"step {len(primer) + shortfall.argmax()}: {shortfall.max()}"
    assert np.mean(picked == logits.argmax(axis=-1)) > 0.95
    assert sampler_conditions(chords, 3).shape == (len(chords), music.CHORD_DIM + 1)


def test_a_single_piece_holds_out_its_last_bars_for_dev():
    from apps.jazz.data import Piece, split_endings
    from seqapps import music

    notes = [music.Note(onset, 12, 60 + onset // 48) for onset in range(0, 20 * 48, 24)]
    tokens = music.encode_notes(notes, 20 * 48)
    chords = np.tile(music.chord_vector("C7"), (20 * 48, 1))
    piece = Piece("tune", "tune.mid", tokens, chords, beats_per_bar=4, notes=len(notes))
    train_pieces, dev = split_endings([piece], 0.1)
    assert [p.steps for p in train_pieces] == [18 * 48] and [p.steps for p in dev] == [2 * 48]
    np.testing.assert_array_equal(np.concatenate([train_pieces[0].tokens, dev[0].tokens]), tokens)
    assert dev[0].notes == 4 and dev[0].name == "tune[19:20]"


@pytest.mark.slow
def test_chords_from_a_lead_sheet_score_and_primer_from_a_midi_file(jazz_run, capsys, tmp_path):
    import music21

    from seqapps import music

    sheet = music21.corpus.getWork("leadSheet/fosterBrownHair.mxl")
    primer = music.write_midi(
        tmp_path / "lick.mid", music.encode_notes([music.Note(0, 3, 67), music.Note(3, 9, 71)], 12)
    )
    code, err = predict_cli(
        capsys,
        jazz_run,
        str(tmp_path / "brown.mid"),
        "--chords-from",
        str(sheet),
        "--primer",
        str(primer),
        "--bars",
        "4",
        "--no-score",
    )
    assert code in (0, None), err
    midi = mido.MidiFile(tmp_path / "brown.mid")
    melody = [m for m in midi.tracks[1] if m.type == "note_on" and m.velocity > 0]
    assert [m.note for m in melody[:2]] == [67, 71]
    chord_notes = [m.note for m in midi.tracks[2] if m.type == "note_on" and m.velocity > 0]
    assert chord_notes  # the lead sheet's chord symbols became block chords


@pytest.mark.slow
def test_a_moved_model_is_evaluated_on_its_corpus_given_again(jazz_run, tmp_path, capsys):
    from apps.jazz import evaluate

    moved = tmp_path / "moved"
    moved.mkdir()
    shutil.copy(jazz_run / "model.keras", moved / "model.keras")
    config = json.loads((jazz_run / "config.json").read_text())
    config["options"]["data"] = [str(tmp_path / "not-here")]
    (moved / "config.json").write_text(json.dumps(config))
    code, err = run(capsys, evaluate, ["--model", str(moved), "--likelihood-only"])
    check_one_line(code, err, "not-here")
    argv = ["--model", str(moved), "--likelihood-only", "--corpus", "music21:leadSheet"]
    argv += ["--corpus", "music21:joplin", "--cache-dir", str(jazz_run.parent / "cache")]
    with pytest.raises(SystemExit) as exit_info:
        run_main(evaluate.main, argv, prog="apps.jazz.evaluate")
    captured = capsys.readouterr()
    assert exit_info.value.code == 0, captured.err
    report = json.loads(captured.out)
    assert set(report) == {"dev_pieces", "likelihood"}
    dev = json.loads((jazz_run / "metrics.json").read_text())["dev"]
    assert report["likelihood"]["nll"] == pytest.approx(dev["nll"], abs=1e-5)
    assert "chord_tone_ratio" not in captured.err
