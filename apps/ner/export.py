"""Export a trained NER model as a TensorFlow SavedModel that needs no seqapps.

Two signatures, both returning IOB2 tag strings:

* `serving_default`: `text`, a batch of strings `(batch,)`. Each text is tokenized inside
  the graph by `graph_tokenize`, a simpler tokenizer than the one `apps.ner.predict` uses
  (it gives no character offsets and keeps `U.S.-based` whole; see its docstring), and
  returns `tokens` `(batch, time)` ("" after the end), `lengths` `(batch,)`, `tags`
  `(batch, time)` ("" after the end) and `scores` `(batch, time)` (each tag's probability:
  CRF marginal or softmax probability; 0 after the end).
* `tag_tokens`: `tokens` `(batch, time)` padded token strings and `lengths` `(batch,)`;
  returns `tags` and `scores` as above, equal to `apps.ner.tag_sentences` on the same
  tokens.

Example (a preset, then serving it):
  python -m apps.ner.export --model conll03 --out exported/conll03
  saved_model_cli run --dir exported/conll03 --tag_set serve \\
      --signature_def serving_default --input_exprs 'text=["EU rejects German call."]'
"""

from apps.ner.exporting import export
from seqapps.cli import run_main
from seqapps.export import export_script

main = export_script("apps.ner.export", __doc__, export, app="ner")


if __name__ == "__main__":
    run_main(main, prog="apps.ner.export")
