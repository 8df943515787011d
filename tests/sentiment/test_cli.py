"""The sentiment scripts end to end, as users run them.

Training, prediction and evaluation run in this process where a fresh interpreter adds
nothing; loading in a new process, serving without seqapps, piped input, the same seed in
two processes and the two logical CPUs of the mirrored strategy run in subprocesses.
"""

import json
import os
import re
import subprocess
import textwrap

import pytest
from support.cli import run_captured, run_ok
from support.sentiment import SMALL, synthetic_rows, write_csv

# Every test trains a model or starts a process.
pytestmark = pytest.mark.slow


def train_args(data, out, *extra):
    """The arguments of `python -m apps.sentiment.train --data DATA --out OUT EXTRA...`."""
    return ["-m", "apps.sentiment.train", "--data", str(data), "--out", str(out), *extra]


def train(capsys, data, out, *extra, check=True):
    """`(exit status, stderr)` of `apps.sentiment.train --data DATA --out OUT EXTRA...` here."""
    code, _, err = run_captured(capsys, "apps.sentiment.train", train_args(data, out, *extra)[2:])
    assert code == 0 or not check, err[-4000:]
    return code, err


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_run_directory_contents(trained_run):
    names = {p.name for p in trained_run.iterdir()}
    assert {
        "model.keras",
        "config.json",
        "metrics.json",
        "history.csv",
        "curves.png",
        "confusion.png",
        "saved_model",
    } <= names
    assert "checkpoint" not in names
    config = json.loads((trained_run / "config.json").read_text())
    assert config["options"]["units"] == 8 and config["labels"] == ["neg", "pos"]
    assert "apps.sentiment.train" in config["command"] and config["versions"]["keras"]
    metrics = json.loads((trained_run / "metrics.json").read_text())
    assert metrics["dev"]["accuracy"] > 0.9, metrics
    history = (trained_run / "history.csv").read_text().splitlines()
    assert history[0].startswith("epoch,") and len(history) == 5
    assert (trained_run / "curves.png").read_bytes()[:4] == b"\x89PNG"


def test_predict_arguments_stdin_file_and_formats(trained_run, run_python, tmp_path, capsys):
    table, _ = run_ok(
        capsys,
        "apps.sentiment.predict",
        ["--model", trained_run, "a wonderful film", "awful and boring", ""],
    )
    lines = table.splitlines()
    assert lines[0].split() == ["label", "confidence", "text"]
    assert lines[1].split()[0] == "pos" and lines[2].split()[0] == "neg" and len(lines) == 4
    piped = run_python(
        [
            "-m",
            "apps.sentiment.predict",
            "--model",
            str(trained_run / "model.keras"),
            "--format",
            "jsonl",
        ],
        input="superb story\nterrible plot\n",
    )
    records = [json.loads(line) for line in piped.stdout.splitlines()]
    assert [r["label"] for r in records] == ["pos", "neg"]
    assert abs(sum(records[0]["probabilities"].values()) - 1) < 1e-5
    source = write_csv(tmp_path / "in.csv", [{"review": "lovely", "id": 1}], ("review", "id"))
    out = tmp_path / "out.csv"
    argv = ["--model", trained_run, "--input", source, "--text-col", "review", "--format", "csv"]
    run_ok(capsys, "apps.sentiment.predict", [*argv, "--output", out])
    header, row = out.read_text().splitlines()
    assert header == "text,label,confidence,p_neg,p_pos" and row.startswith("lovely,pos,")


def test_evaluate_prints_json_and_report(trained_run, sentiment_csv, capsys):
    argv = ["--model", trained_run, "--data", sentiment_csv[1]]
    stdout, stderr = run_ok(capsys, "apps.sentiment.evaluate", argv)
    report = json.loads(stdout)
    assert report["examples"] == 80 and report["accuracy"] > 0.9
    assert set(report["per_class"]) == {"neg", "pos"} and len(report["confusion_matrix"]) == 2
    assert "macro-F1" in stderr and "precision" in stderr


def test_fresh_process_load_and_python_api(trained_run, run_python):
    script = textwrap.dedent(f"""
        import json, keras, seqapps
        from apps import sentiment
        model = keras.saving.load_model({str(trained_run / "model.keras")!r})
        texts = ["great acting", "dull", ""]
        print(json.dumps([r["probabilities"] for r in sentiment.predict_texts(model, texts)]))
    """)
    from apps import sentiment

    here = sentiment.predict_texts(sentiment.load(str(trained_run)), ["great acting", "dull", ""])
    fresh = json.loads(run_python(["-c", script]).stdout)
    assert fresh == [r["probabilities"] for r in here]
    assert fresh[0]["pos"] > 0.5 and fresh[1]["neg"] > 0.5


def test_saved_model_without_seqapps_equals_keras(trained_run, run_python):
    from apps import sentiment

    texts = ["a brilliant film", "messy", "", "unknownword zzz"]
    records = sentiment.predict_texts(sentiment.load(str(trained_run)), texts)
    expected = [r["probabilities"]["pos"] for r in records]
    serving_side = textwrap.dedent(f"""
        import json, sys, tensorflow as tf
        loaded = tf.saved_model.load({str(trained_run / "saved_model")!r})
        out = loaded.signatures["serving_default"](text=tf.constant({texts!r}))
        assert not any(m.startswith(("seqapps", "apps")) for m in sys.modules)
        print(json.dumps({{"pos": out["probabilities"].numpy()[:, 1].tolist(),
                          "label": [x.decode() for x in out["label"].numpy()]}}))
    """)
    served = json.loads(run_python(["-c", serving_side]).stdout)
    assert max(abs(a - b) for a, b in zip(expected, served["pos"])) < 1e-5
    assert served["label"][:2] == ["pos", "neg"]


def test_saved_model_cli_runs_it(trained_run):
    result = subprocess.run(
        [
            "saved_model_cli",
            "run",
            "--dir",
            str(trained_run / "saved_model"),
            "--tag_set",
            "serve",
            "--signature_def",
            "serving_default",
            "--input_exprs",
            'text=["superb film"]',
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "output key label" in result.stdout and "b'pos'" in result.stdout


def test_export_script(trained_run, tmp_path, capsys):
    out = tmp_path / "exported"
    argv = ["--model", trained_run, "--out", out]
    run_ok(capsys, "apps.sentiment.export", argv)
    assert (out / "saved_model.pb").is_file()
    code, _, err = run_captured(capsys, "apps.sentiment.export", argv)
    assert code == 2 and "--overwrite" in err


def test_five_ordered_classes_give_stars_with_an_ensemble(tmp_path, capsys):
    labels = ("1", "2", "3", "4", "5")
    data = write_csv(tmp_path / "stars.csv", synthetic_rows(200, seed=4, labels=labels))
    out = tmp_path / "run"
    train(capsys, data, out, "--epochs", "1", "--no-export", "--ensemble", "2", *SMALL)
    assert not (out / "saved_model").exists()
    header = (out / "history.csv").read_text().splitlines()[0]
    assert "member_0_loss" in header and "member_1_loss" in header
    argv = ["--model", out, "--format", "jsonl", "a lovely film"]
    record = json.loads(run_ok(capsys, "apps.sentiment.predict", argv)[0])
    assert record["stars"] == int(record["label"]) and list(record["probabilities"]) == list(labels)


def test_same_seed_same_dev_metrics(tmp_path, run_python, sentiment_csv):
    runs = []
    for name in ("a", "b"):
        out = tmp_path / name
        run_python(
            train_args(
                str(sentiment_csv[0]),
                str(out),
                "--epochs",
                "2",
                "--no-export",
                "--seed",
                "5",
                *SMALL,
            )
        )
        runs.append(json.loads((out / "metrics.json").read_text())["dev"])
        runs[-1]["history"] = (out / "history.csv").read_text().split("\n")[1].split(",")[:3]
    assert runs[0] == runs[1]


def test_mirrored_strategy_on_two_logical_cpus(tmp_path, run_python, sentiment_csv):
    out = tmp_path / "run"
    run_python(
        train_args(
            str(sentiment_csv[0]),
            str(out),
            "--epochs",
            "2",
            "--no-export",
            "--strategy",
            "mirrored",
            "--logical-cpus",
            "2",
            *SMALL,
        )
    )
    assert json.loads((out / "metrics.json").read_text())["dev"]["examples"] == 32
    config = json.loads((out / "config.json").read_text())
    assert config["options"]["strategy"] == "mirrored"


def test_nan_loss_stops_with_advice(tmp_path, sentiment_csv, capsys):
    # Finite but enormous word vectors overflow the first matmul: inf - inf = nan.
    vectors = tmp_path / "huge.txt"
    vectors.write_text("".join(f"{w} 3e38 3e38\n" for w in ["the", "movie", "plot", "a", "film"]))
    out = tmp_path / "run"
    argv = ["--epochs", "2", "--embeddings", vectors, "--units", "8", "--embedding-dropout", "0"]
    code, err = train(capsys, sentiment_csv[0], out, *argv, check=False)
    assert code == 2
    assert re.search(r"training loss became (nan|inf) at epoch 1, batch 1;", err)
    assert "--clipnorm" in err and "--lr" in err
    assert "Traceback" not in err
    assert not out.exists()


def test_embeddings_file_initialises_vectors(tmp_path, sentiment_csv, capsys):
    vectors = tmp_path / "vectors.txt"
    vectors.write_text("great 0.5 0.5 0.5 0.5\nawful -0.5 -0.5 -0.5 -0.5\nthe 0.1 0 0 0\n")
    out = tmp_path / "run"
    argv = ["--epochs", "1", "--no-export", "--embeddings", vectors, "--units", "8"]
    _, err = train(capsys, sentiment_csv[0], out, *argv)
    assert "Word vectors for 3 of" in err
    config = json.loads((out / "config.json").read_text())
    assert config["options"]["embedding_dim"] == 4


@pytest.mark.skipif(
    not (
        __import__("pathlib").Path(
            os.environ.get("SEQAPPS_DATA", os.path.join(ROOT, "..", "shared", "data"))
        )
        / "sst"
        / "dev.txt"
    ).is_file(),
    reason="SST files not found under SEQAPPS_DATA",
)
def test_short_run_on_real_sst(tmp_path, capsys):
    data = os.environ.get("SEQAPPS_DATA", os.path.join(ROOT, "..", "shared", "data"))
    out = tmp_path / "sst"
    argv = ["--dev", f"{data}/sst/dev.txt", "--classes", "2", "--epochs", "1", "--no-export"]
    train(capsys, f"{data}/sst/dev.txt", out, *argv, "--units", "16", "--embedding-dim", "16")
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["dev"]["examples"] == 872 and metrics["dev"]["labels"] == [
        "negative",
        "positive",
    ]
    argv = ["--model", out, "--data", f"{data}/sst/dev.txt"]
    assert json.loads(run_ok(capsys, "apps.sentiment.evaluate", argv)[0])["examples"] == 872
