"""`train --init-from RUN`: go on training an earlier run on new data, keeping its model."""

import json

import numpy as np
import pytest
from support.cli import run

from apps.names import train as names_train
from apps.ner import train as ner_train
from apps.sentiment import train as sentiment_train
from seqapps.export import load_model

TINY = ["--epochs", "1", "--batch-size", "8", "--no-export"]
TINY_KEYWORDS = {"epochs": 1, "batch_size": 8, "no_export": True}


def options_of(run_dir):
    return json.loads((run_dir / "config.json").read_text())["options"]


@pytest.fixture(scope="module")
def names_runs(tmp_path_factory):
    """Two name lists and a tiny run trained on the first (its own dev set)."""
    folder = tmp_path_factory.mktemp("names")
    first, second = folder / "first.txt", folder / "second.txt"
    first.write_text("".join(f"{a}saurus\n" for a in ("Alo", "Bra", "Cera", "Dila", "Eu")) * 4)
    second.write_text("".join(f"{a}raptor\n" for a in ("Velo", "Uta", "Zyx", "Qua")) * 4)
    base = folder / "base"
    names_train.train_model(
        data=str(first), dev=str(first), out=str(base), units=8, embedding_dim=4, **TINY_KEYWORDS
    )
    return folder, first, second, base


@pytest.mark.slow
def test_names_continue_with_the_first_runs_vocabulary_and_model(names_runs, capsys):
    folder, first, second, base = names_runs
    more = folder / "more"
    code, err = run(
        capsys,
        names_train,
        ["--data", str(second), "--dev", str(second), "--out", str(more), "--init-from", str(base)]
        + TINY,
    )
    assert code == 0, err
    # "Velo Uta Zyx Qua raptor" against "Alo Bra Cera Dila Eu saurus": V, Z, x, Q, p, q...
    new = set("".join(second.read_text().split())) - set("".join(first.read_text().split()))
    line = next(line for line in err.splitlines() if line.startswith("--init-from"))
    assert f"does not know {len(new)} of the" in line
    recorded = options_of(more)
    assert (recorded["units"], recorded["embedding_dim"]) == (8, 4)
    assert recorded["init_from"] == str(base)
    kept, started = load_model(str(more)), load_model(str(base))
    assert [w.shape for w in kept.get_weights()] == [w.shape for w in started.get_weights()]
    assert kept.get_layer("vocabulary").characters == started.get_layer("vocabulary").characters
    assert not all(
        np.array_equal(a, b) for a, b in zip(kept.get_weights(), started.get_weights())
    ), "the second run trained"


@pytest.mark.slow
def test_a_different_model_flag_with_init_from_is_refused(names_runs, capsys):
    folder, _, second, base = names_runs
    out = folder / "refused"
    argv = ["--data", str(second), "--out", str(out), "--init-from", str(base), "--units", "16"]
    code, err = run(capsys, names_train, [*argv, *TINY])
    assert code == 2
    assert err.strip().splitlines() == [
        f"apps.names.train: error: --init-from {base}: the model keeps its own model flags; "
        "received --units 16 (it has 8)"
    ]
    assert not out.exists()


@pytest.mark.slow
def test_sentiment_keeps_the_classes_and_refuses_new_ones(tmp_path, capsys):
    first, second, third = (tmp_path / f"{name}.csv" for name in ("first", "second", "third"))
    first.write_text("text,label\n" + "a fine film,pos\na dull film,neg\n" * 8)
    second.write_text("text,label\n" + "a superb movie,pos\nan awful movie,neg\n" * 8)
    third.write_text("text,label\n" + "a film,pos\nfilm,meh\n" * 8)
    base = tmp_path / "base"
    argv = ["--data", str(first), "--out", str(base), "--units", "8", "--embedding-dim", "4"]
    code, err = run(capsys, sentiment_train, [*argv, *TINY])
    assert code == 0, err
    more = tmp_path / "more"
    code, err = run(
        capsys,
        sentiment_train,
        ["--data", str(second), "--out", str(more), "--init-from", str(base), *TINY],
    )
    assert code == 0, err
    # superb, movie, awful and an are new; a is known (the vocabulary of the first data).
    line = next(line for line in err.splitlines() if line.startswith("--init-from"))
    assert "does not know 4 of the 5 distinct words" in line
    model = load_model(str(more))
    assert (
        model.get_layer("vectorizer").get_vocabulary()[2:]
        == load_model(str(base)).get_layer("vectorizer").get_vocabulary()[2:]
    )
    code, err = run(
        capsys,
        sentiment_train,
        ["--data", str(third), "--out", str(tmp_path / "x"), "--init-from", str(base), *TINY],
    )
    assert code == 2
    assert "label(s) ['meh'] are not classes of the --init-from model (neg, pos)" in err


@pytest.mark.slow
def test_ner_keeps_its_tags_and_vocabularies(tmp_path, capsys):
    first, second = tmp_path / "first.conll", tmp_path / "second.conll"
    first.write_text("Merkel B-PER\nvisited O\nParis B-LOC\n. O\n\n" * 6)
    second.write_text("Macron B-PER\nvisited O\nBerlin B-LOC\n. O\n\n" * 6)
    base = tmp_path / "base"
    argv = ["--data", str(first), "--out", str(base), "--units", "8", "--word-dim", "4"]
    code, err = run(capsys, ner_train, [*argv, "--char-units", "4", *TINY])
    assert code == 0, err
    more = tmp_path / "more"
    code, err = run(
        capsys,
        ner_train,
        ["--data", str(second), "--out", str(more), "--init-from", str(base), *TINY],
    )
    assert code == 0, err
    line = next(line for line in err.splitlines() if line.startswith("--init-from"))
    assert "does not know 2 of the 4 distinct words" in line  # macron, berlin
    recorded = options_of(more)
    assert (recorded["units"], recorded["word_dim"], recorded["char_units"]) == (8, 4, 4)
    started = json.loads((base / "config.json").read_text())
    assert json.loads((more / "config.json").read_text())["tags"] == started["tags"]
