"""The names scripts end to end: run directory, predict, evaluate, export and serving."""

import csv
import json
import math
import textwrap

import pytest

from apps import names
from apps.names import evaluate, predict
from seqapps.cli import run_main

# Every test trains a model or starts a process.
pytestmark = pytest.mark.slow


def _stdout(capsys, module, argv):
    with pytest.raises(SystemExit) as exit_info:
        run_main(module.main, argv, prog=module.__name__)
    captured = capsys.readouterr()
    assert exit_info.value.code == 0, captured.err
    return captured.out, captured.err


def test_run_directory_contents(trained_run):
    found = {p.name for p in trained_run.iterdir()}
    assert {"model.keras", "config.json", "metrics.json", "history.csv", "dev.txt"} <= found
    assert (trained_run / "saved_model" / "saved_model.pb").is_file()
    assert (trained_run / "curves.png").read_bytes()[:4] == b"\x89PNG"
    assert "checkpoint" not in found
    config = json.loads((trained_run / "config.json").read_text())
    options = config["options"]
    assert options["clipvalue"] == 5.0 and not options["bidirectional"] and options["units"] == 32
    metrics = json.loads((trained_run / "metrics.json").read_text())
    dev = metrics["dev"]
    assert dev["nll"] < math.log(len(config["characters"]) + 3)  # better than uniform
    assert dev["bits_per_char"] == pytest.approx(dev["nll"] / math.log(2))
    with open(trained_run / "history.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 5
    # The log reports the gradient norm of every epoch.
    for row in rows:
        assert 0 < float(row["grad_norm"]) <= float(row["grad_norm_max"])
    assert float(rows[-1]["dev_nll"]) < float(rows[0]["dev_nll"])


def test_predict_marks_samples_and_reports_the_new_share(trained_run, capsys):
    out, err = _stdout(capsys, predict, ["--model", str(trained_run), "-n", "6", "--seed", "4"])
    lines = out.splitlines()
    assert lines[0].split() == ["log_prob", "length", "novelty", "sample"] and len(lines) == 7
    new = sum(" new " in f" {line} " for line in lines[1:])
    assert f"new: {new} of 6" in err and "without its dev split" in err
    out, _ = _stdout(
        capsys,
        predict,
        ["--model", str(trained_run), "--beam", "3", "--prefix", "Gi", "--format", "jsonl"],
    )
    beams = [json.loads(line) for line in out.splitlines()]
    assert len(beams) == 3 and all(b["sample"].startswith("Gi") for b in beams)
    assert beams[0]["log_prob"] >= beams[1]["log_prob"] >= beams[2]["log_prob"]


def test_evaluate_on_the_dev_split_reproduces_the_training_metrics(trained_run, capsys):
    out, _ = _stdout(
        capsys,
        evaluate,
        ["--model", str(trained_run), "--data", str(trained_run / "dev.txt"), "--samples", "0"],
    )
    report = json.loads(out)
    dev = json.loads((trained_run / "metrics.json").read_text())["dev"]
    assert report["nll"] == pytest.approx(dev["nll"], abs=1e-6)
    assert report["characters"] == dev["characters"] and "samples" not in report


def test_greedy_from_the_command_line_gives_one_sample(trained_run, capsys):
    out, err = _stdout(
        capsys, predict, ["--model", str(trained_run), "--temperature", "0", "-n", "5"]
    )
    assert len(out.splitlines()) == 2 and "greedy" in err


def test_evaluate_reports_nll_bits_perplexity_scores_and_samples(trained_run, names_file, capsys):
    out, err = _stdout(
        capsys,
        evaluate,
        ["--model", str(trained_run), "--data", str(names_file), "--score", "Alraptor",
         "--samples", "200"],
    )  # fmt: skip
    report = json.loads(out)
    assert report["examples"] == 160
    assert report["bits_per_char"] == pytest.approx(report["nll"] / math.log(2))
    assert report["perplexity"] == pytest.approx(math.exp(report["nll"]))
    # Every name predicts its characters and its end symbol.
    lengths = [len(line) + 1 for line in names_file.read_text().split()]
    assert report["characters"] == sum(lengths)
    [score] = report["scores"]
    assert len(score["characters"]) == len("Alraptor") + 1
    assert score["log_prob"] == pytest.approx(sum(v for _, v in score["characters"]))
    samples = report["samples"]
    assert samples["count"] == 200 and 0 <= samples["new_share"] <= 1
    assert samples["training_lengths"]["count"] == 144  # 160 names less the 10 % dev split
    assert 0 <= samples["ks_statistic"] <= 1 and "Kolmogorov-Smirnov" in err


def test_saved_model_serves_without_seqapps(trained_run, model, run_python):
    out = trained_run / "saved_model"  # written by the export function at the end of training
    texts = ["Alraptor", "Hanodon", "", "Qx"]
    script = textwrap.dedent(f"""
        import json, sys
        import tensorflow as tf
        loaded = tf.saved_model.load({str(out)!r})
        sample = loaded.signatures["sample"]
        def run(seed, prefix="", temperature=1.0):
            got = sample(count=tf.constant(6), temperature=tf.constant(temperature),
                         seed=tf.constant(seed), prefix=tf.constant(prefix))
            return [s.decode() for s in got["strings"].numpy()], got["log_probs"].numpy().tolist()
        scored = loaded.signatures["score"](strings=tf.constant({texts!r}))
        assert not any(m.startswith(("seqapps", "apps")) for m in sys.modules)
        print(json.dumps({{
            "first": run(5), "again": run(5), "other": run(6), "prefixed": run(5, "Br"),
            "greedy": run(0, "Br", 0.0),
            "log_prob": scored["log_prob"].numpy().tolist(),
            "lengths": scored["lengths"].numpy().tolist(),
        }}))
    """)
    served = json.loads(run_python(["-c", script]).stdout)
    assert served["first"] == served["again"] and served["first"][0] != served["other"][0]
    assert all(s.startswith("Br") for s in served["prefixed"][0])
    assert len(set(served["greedy"][0])) == 1
    # The same sampler and scores as the Keras model.
    keras_samples = names.sample_names(model, count=6, temperature=1.0, seed=5)
    assert served["first"][0] == [r["sample"] for r in keras_samples]
    assert served["first"][1] == pytest.approx([r["log_prob"] for r in keras_samples], abs=1e-4)
    expected = [r["log_prob"] for r in names.score_strings(model, texts)]
    assert served["log_prob"] == pytest.approx(expected, abs=1e-4)
    assert served["lengths"] == [len(t) for t in texts]
    greedy = names.sample_names(model, temperature=0, prefix="Br")[0]["sample"]
    assert served["greedy"][0][0] == greedy


def test_dev_split_scores_the_lines_the_run_held_out(trained_run, names_file, capsys):
    out, err = _stdout(
        capsys,
        evaluate,
        ["--model", str(trained_run), "--data", str(names_file), "--dev-split", "--samples", "0"],
    )
    report = json.loads(out)
    dev = json.loads((trained_run / "metrics.json").read_text())["dev"]
    assert report["nll"] == pytest.approx(dev["nll"], abs=1e-6)
    assert report["characters"] == dev["characters"]
    assert report["data"] == f"{names_file} (its dev split)"


def test_a_preset_finds_its_training_names_through_its_config(trained_run, tmp_path, capsys):
    from seqapps import presets

    folder = tmp_path / "presets" / "tiny"
    folder.mkdir(parents=True)
    for name in ("model.keras", "config.json"):
        (folder / name).write_bytes((trained_run / name).read_bytes())
    (folder / "preset.json").write_text('{"app": "names", "default": true}')
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(presets.PRESETS_VARIABLE, str(tmp_path / "presets"))
        _, err = _stdout(capsys, predict, ["-n", "4", "--seed", "2"])
    assert "using the preset 'tiny'" in err
    assert "without its dev split" in err and "new: " in err
