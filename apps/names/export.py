"""Export a trained names model as a TensorFlow SavedModel that samples and scores strings.

Two signatures, served with TensorFlow only:

* `sample`: `count` (int32), `temperature` (float32; 0 or less is greedy),
  `seed` (int32) and `prefix` (string, may be empty) -> `strings` (count,),
  `log_probs` (count,) and `lengths` (count,). Samples stop at the end symbol
  or at 40 characters (200 for running-text models), or one character after a
  longer prefix. The same seed gives the same samples.
* `score`: `strings` (batch,) -> `log_prob` (batch,), the log-probability of
  each string (its end symbol included, for line models), `char_log_probs`
  (batch, longest + 1; zero-padded) and `lengths` (characters per string).

Characters the model never saw count as its unknown character.

Example (a preset, then serving it):
  python -m apps.names.export --model dinos --out exported/dinos
  saved_model_cli run --dir exported/dinos --tag_set serve --signature_def sample \\
      --input_exprs 'count=5;temperature=1.0;seed=1;prefix="Tyr"'
"""

from apps.names.exporting import export
from seqapps.cli import run_main
from seqapps.export import export_script

main = export_script("apps.names.export", __doc__, export, app="names")


if __name__ == "__main__":
    run_main(main, prog="apps.names.export")
