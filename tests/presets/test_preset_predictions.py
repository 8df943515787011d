"""`predict` without `--model` uses the app's default preset and does its job sensibly."""

import json

import mido
import pytest
from support.cli import check_one_line, run_captured, run_ok

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("repository_presets")]


def predict(capsys, app, *argv):
    return run_ok(capsys, f"apps.{app}.predict", argv)


def test_sentiment_polarity_of_obvious_sentences(capsys):
    out, err = predict(
        capsys,
        "sentiment",
        "--format",
        "jsonl",
        "A gorgeous, witty and moving film.",
        "Dull, tedious and far too long.",
    )
    assert "using the preset 'sst2'" in err
    labels = [json.loads(line)["label"] for line in out.splitlines()]
    assert labels == ["positive", "negative"]


def test_five_levels_order_the_obvious_sentences(capsys):
    out, _ = predict(
        capsys,
        "sentiment",
        "--model",
        "sst5",
        "--format",
        "jsonl",
        "A masterpiece: gorgeous, witty and deeply moving.",
        "The worst film of the year, dull and stupid.",
    )
    stars = [json.loads(line)["stars"] for line in out.splitlines()]
    assert stars[0] >= 4 and stars[1] <= 2


def test_five_levels_answer_in_two_without_the_neutral_share(capsys):
    texts = ["A masterpiece: gorgeous, witty and deeply moving.", "It is a film.", "Dull."]
    five, _ = predict(capsys, "sentiment", "--model", "sst5", "--format", "jsonl", *texts)
    two, _ = predict(
        capsys, "sentiment", "--model", "sst5", "--classes", "2", "--format", "jsonl", *texts
    )
    for fine, coarse in zip(five.splitlines(), two.splitlines()):
        p = json.loads(fine)["probabilities"]
        negative = p["very negative"] + p["negative"]
        positive = p["positive"] + p["very positive"]
        record = json.loads(coarse)
        assert record["probabilities"] == pytest.approx(
            {
                "negative": negative / (negative + positive),
                "positive": positive / (negative + positive),
            },
            abs=1e-6,
        )
        assert record["label"] == ("positive" if positive > negative else "negative")
        assert "stars" not in record
    assert [json.loads(line)["label"] for line in two.splitlines()][::2] == ["positive", "negative"]


def test_a_two_class_model_cannot_answer_in_five(capsys):
    code, _, err = run_captured(
        capsys, "apps.sentiment.predict", ["--model", "sst2", "--classes", "5", "fine"]
    )
    check_one_line(code, err, "--classes 5", "predicts 2 classes (negative, positive)")


def test_ner_finds_the_people_and_the_city(capsys):
    out, err = predict(
        capsys, "ner", "--format", "jsonl", "Angela Merkel met Emmanuel Macron in Paris."
    )
    assert "using the preset 'conll03'" in err
    entities = [(e["text"], e["type"]) for e in json.loads(out.splitlines()[0])["entities"]]
    assert entities == [("Angela Merkel", "PER"), ("Emmanuel Macron", "PER"), ("Paris", "LOC")]


def test_jazz_writes_a_solo_of_the_bars_asked_for(capsys, tmp_path):
    out = tmp_path / "solo.mid"
    _, err = predict(
        capsys,
        "jazz",
        "--chords",
        "Dm7 G7 | Cmaj7",
        "--bars",
        "8",
        "--no-score",
        "--out",
        str(out),
    )
    assert "using the preset 'wjazzd'" in err
    midi = mido.MidiFile(out)
    beats = max(sum(message.time for message in track) for track in midi.tracks)
    assert beats / midi.ticks_per_beat == pytest.approx(32, abs=0.01)
    melody = [m for m in midi.tracks[1] if m.type == "note_on" and m.velocity > 0]
    assert len(melody) >= 8


def test_names_gives_ten_names(capsys):
    out, err = predict(capsys, "names", "-n", "10", "--format", "jsonl")
    assert "using the preset 'dinos'" in err
    names = [json.loads(line)["sample"] for line in out.splitlines()]
    assert len(names) == 10
    for name in names:
        assert name.isalpha() and 3 <= len(name) <= 30, name
    # The training names are capitalised (one of the 1,391 is not).
    assert sum(name[0].isupper() for name in names) >= 8, names
    assert len(set(names)) == 10
