"""Export a trained sentiment model as a TensorFlow SavedModel that takes raw strings.

The `serving_default` signature takes `text` (a batch of strings) and returns
`label` (class names), `class_id`, `probabilities` (batch, classes) and, for
ordered five-class models, `stars` (1-5). It needs TensorFlow only.

Example (a preset, then serving it):
  python -m apps.sentiment.export --model sst2 --out exported/sst2
  saved_model_cli run --dir exported/sst2 --tag_set serve \\
      --signature_def serving_default --input_exprs 'text=["a gorgeous film"]'
"""

from apps.sentiment.exporting import export
from seqapps.cli import run_main
from seqapps.export import export_script

main = export_script("apps.sentiment.export", __doc__, export, app="sentiment")


if __name__ == "__main__":
    run_main(main, prog="apps.sentiment.export")
