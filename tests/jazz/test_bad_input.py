"""Errors users can cause in the jazz app: one line naming the file or flag, exit 2.

Nothing here trains: flags are checked while parsing (before any model is read), corpus
problems are checked on small files written by the tests, and the model-kind checks use
untrained models built in-process.
"""

import csv
import importlib

import keras
import mido
import numpy as np
import pytest
from support.cli import check_one_line, run
from support.foreign import expected_app, foreign_model_argv, foreign_scripts

from apps.jazz import data, evaluate, predict
from seqapps import music
from seqapps.cli import UserError

# The export script; `from apps.jazz import export` gives the Python API's `export` function.
export = importlib.import_module("apps.jazz.export")


def _solo_tokens():
    notes = [music.Note(onset, 6, 60 + onset // 6 % 12) for onset in range(0, 4 * 48, 6)]
    return music.encode_notes(notes, 4 * 48)


@pytest.fixture
def solo_midi(tmp_path):
    """A readable four-bar MIDI file: a melody track over block chords."""
    chords = music.chords_per_step(music.parse_progression("C7 | F7 | C7 | G7"))
    return music.write_midi(tmp_path / "solo.mid", _solo_tokens(), chords)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """Untrained `.keras` files: a jazz improviser, a names model and a plain Keras model."""
    from apps.jazz import train as jazz_train
    from apps.jazz.model import build_model
    from apps.names import train as names_train
    from apps.names.model import build_core
    from seqapps.layers import CharVocabulary

    folder = tmp_path_factory.mktemp("models")
    jazz_options = jazz_train.build_parser().parse_args(
        ["--units", "4", "--layers", "1", "--embedding-dim", "4"]
    )
    build_model(jazz_options).save(folder / "jazz.keras")
    names_options = names_train.build_parser().parse_args(["--units", "4", "--embedding-dim", "4"])
    build_core(CharVocabulary(list("abc")), names_options).save(folder / "names.keras")
    plain = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)], name="plain")
    plain.save(folder / "plain.keras")
    return folder


# --- flags: checked while parsing, before the model is read -------------------------------


@pytest.mark.parametrize(
    ("flags", "fragment"),
    [
        (["--tempo", "0"], "--tempo must be in [4, 1000]; received 0"),
        (["--tempo", "-120"], "--tempo must be in [4, 1000]; received -120"),
        (["--tempo", "nan"], "--tempo must be a finite number; received 'nan'"),
        (["--tempo", "fast"], "--tempo must be a number; received 'fast'"),
        (["--bars", "0"], "--bars must be a positive integer; received 0"),
        (["--num-outputs", "-1"], "--num-outputs must be a positive integer; received -1"),
        (["--beats-per-bar", "9"], "--beats-per-bar must be in 1..8; received 9"),
        (["--temperature", "-1"], "--temperature must be >= 0; received -1.0"),
        (["--top-k", "-1"], "--top-k must be >= 0; received -1"),
        (["--top-p", "0"], "--top-p must be in (0, 1]; received 0.0"),
        (["--top-p", "1.5"], "--top-p must be in (0, 1]; received 1.5"),
        (["--seed", "-1"], "--seed must be in 0..2147483647; received -1"),
    ],
)
def test_predict_flags_are_checked_while_parsing(tmp_path, capsys, flags, fragment):
    argv = ["--model", str(tmp_path / "missing"), "--chords", "C7", "--out", str(tmp_path / "x")]
    code, err = run(capsys, predict, [*argv, *flags])
    check_one_line(code, err, fragment)
    assert "usage:" not in err and not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("flags", "fragment"),
    [
        (["--bars", "0"], "--bars must be a positive integer; received 0"),
        (["--num-samples", "-2"], "--num-samples must be >= 0; received -2"),
        (["--temperature", "-0.5"], "--temperature must be >= 0; received -0.5"),
        (["--top-p", "2"], "--top-p must be in (0, 1]; received 2.0"),
    ],
)
def test_evaluate_flags_are_checked_while_parsing(tmp_path, capsys, flags, fragment):
    code, err = run(capsys, evaluate, ["--model", str(tmp_path / "missing"), *flags])
    check_one_line(code, err, fragment)


# --- models of another kind ---------------------------------------------------------------


def _script_argv(module, model, tmp_path):
    extra = {
        "predict": ["--chords", "C7", "--out", str(tmp_path / "solo.mid")],
        "evaluate": [],
        "export": ["--out", str(tmp_path / "exported")],
    }[module.__name__.rsplit(".", 1)[1]]
    return ["--model", str(model), *extra]


@pytest.mark.parametrize("module", [predict, evaluate, export])
def test_jazz_scripts_name_the_app_of_a_foreign_model(models, tmp_path, capsys, module):
    code, err = run(capsys, module, _script_argv(module, models / "names.keras", tmp_path))
    check_one_line(code, err, "this is a names model (apps.names), not a jazz model")
    code, err = run(capsys, module, _script_argv(module, models / "plain.keras", tmp_path))
    check_one_line(code, err, "not a jazz model", "'plain'")
    assert not (tmp_path / "solo.mid").exists() and not (tmp_path / "exported").exists()


@pytest.mark.parametrize("script", foreign_scripts("jazz"))
def test_other_apps_name_a_jazz_model(models, tmp_path, capsys, script):
    module = importlib.import_module(script)
    code, err = run(capsys, module, foreign_model_argv(script, models / "jazz.keras", tmp_path))
    wanted = expected_app(script)
    check_one_line(code, err, f"this is a jazz model (apps.jazz), not {wanted}")


# --- corpus files -------------------------------------------------------------------------


def test_empty_cache_entry_is_a_miss_and_is_rebuilt(solo_midi, tmp_path, capsys):
    cache = tmp_path / "cache"
    first, report = data.load_corpus(solo_midi, cache_dir=cache, progress=False)
    (entry,) = cache.glob("*.npz")
    assert report.from_cache == 0
    entry.write_bytes(b"")  # a run killed while writing, a full disk, ...
    again, report = data.load_corpus(solo_midi, cache_dir=cache, progress=False)
    assert report.from_cache == 0 and entry.stat().st_size > 0
    np.testing.assert_array_equal(again[0].tokens, first[0].tokens)
    _, report = data.load_corpus(solo_midi, cache_dir=cache, progress=False)
    assert report.from_cache == 1
    entry.write_bytes(b"PK\x03\x04 not a zip archive")
    _, report = data.load_corpus(solo_midi, cache_dir=cache, progress=False)
    assert report.from_cache == 0 and report.loaded == 1
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("content", [b"", b"garbage", b"MThd\x00\x00\x00\x06\x00\x01"])
def test_unreadable_midi_file_is_one_clear_error(tmp_path, capsys, content):
    bad = tmp_path / "bad.mid"
    bad.write_bytes(content)
    with pytest.raises(UserError) as error:
        data.load_corpus(bad, cache_dir=False)
    assert str(error.value) == f"{bad}: not a readable MIDI file"
    assert capsys.readouterr().err == ""  # no warning besides the error


def test_unreadable_midi_in_a_folder_is_skipped_with_a_warning_naming_it(
    solo_midi, tmp_path, capsys
):
    (tmp_path / "bad.mid").write_bytes(b"")
    pieces, report = data.load_corpus(tmp_path, cache_dir=False, progress=False)
    assert len(pieces) == 1 and report.skipped_files == [
        (str(tmp_path / "bad.mid"), "not a readable MIDI file")
    ]
    assert capsys.readouterr().err.strip() == (
        f"warning: skipping {tmp_path / 'bad.mid'}: not a readable MIDI file"
    )


def test_predict_chords_from_an_unreadable_midi_file(tmp_path, capsys):
    bad = tmp_path / "changes.mid"
    bad.write_bytes(b"")
    argv = ["--model", str(tmp_path / "missing"), "--chords-from", str(bad)]
    code, err = run(capsys, predict, [*argv, "--out", str(tmp_path / "x.mid")])
    check_one_line(code, err, f"--chords-from {bad}: not a readable MIDI file")


def _wjazzd(root, solos):
    """A WJazzD-like folder; `solos` maps a name to the columns of its beats table."""
    (root / "midi").mkdir(parents=True)
    (root / "beats").mkdir()
    rows = [["midi", "beats_csv"]]
    for name, columns in solos.items():
        midi = mido.MidiFile(ticks_per_beat=480)
        track = mido.MidiTrack()
        for pitch in (60, 62, 64, 65):
            track.append(mido.Message("note_on", note=pitch, velocity=80, time=0))
            track.append(mido.Message("note_off", note=pitch, velocity=0, time=480))
        midi.tracks.append(track)
        midi.save(root / "midi" / f"{name}_FINAL.mid")
        values = {"bar": [1, 1, 1, 1, 2, 2], "beat": [1, 2, 3, 4, 1, 2]}
        values["onset"] = [0.5 * i for i in range(6)]
        values["chord"] = ["C7", "", "", "", "F7", ""]
        with open(root / "beats" / f"{name}.csv", "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(columns)
            writer.writerows(zip(*(values[column] for column in columns)))
        rows.append([f"midi/{name}_FINAL.mid", f"beats/{name}.csv"])
    with open(root / "index.csv", "w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return root


def test_wjazzd_table_without_chords_is_named_in_the_warning(tmp_path, capsys):
    root = _wjazzd(
        tmp_path / "wjazzd",
        {"Good": ["bar", "beat", "chord", "onset"], "NoChords": ["bar", "beat", "onset"]},
    )
    pieces, report = data.load_corpus(root, cache_dir=False)
    table = root / "beats" / "NoChords.csv"
    assert [piece.name for piece in pieces] == ["Good"]
    assert report.skipped_files == [(str(table), "missing column(s) ['chord']")]
    lines = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert lines == [f"warning: skipping {table}: missing column(s) ['chord']"]


def test_warnings_while_parsing_go_through_the_progress_bar(solo_midi, monkeypatch, capsys):
    import warnings

    written = []
    monkeypatch.setattr("tqdm.tqdm.write", classmethod(lambda cls, text, **_: written.append(text)))
    parse = data.corpus._run_job

    def noisy(job):
        warnings.warn("odd time signature", stacklevel=1)
        return parse(job)

    monkeypatch.setattr(data.corpus, "_run_job", noisy)
    data.load_corpus(solo_midi, cache_dir=False)
    assert written == [f"warning: {solo_midi}: odd time signature"]
    assert "odd time signature" not in capsys.readouterr().err


def test_slow_loading_shows_a_progress_bar(solo_midi, monkeypatch, capsys):
    monkeypatch.setattr(data.corpus, "PROGRESS_DELAY_SECONDS", 0)
    data.load_corpus(solo_midi, cache_dir=False)
    assert "loading" in capsys.readouterr().err
    data.load_corpus(solo_midi, cache_dir=False, progress=False)
    assert capsys.readouterr().err == ""
