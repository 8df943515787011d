"""Export a trained improviser as a TensorFlow SavedModel that generates solos.

The `serving_default` (also `generate`) signature takes `chords` (float32
`[chord_steps, 13]`, cycled), `steps`, `temperature`, `top_p`, `seed` and
`beats_per_bar`, and returns `tokens` (int32 `[steps]`); it needs TensorFlow only
(see `apps.jazz.exporting` and the app README).

Example:
  python -m apps.jazz.export --model wjazzd --out exported/wjazzd
"""

from apps.jazz.exporting import export
from seqapps.cli import run_main
from seqapps.export import export_script

main = export_script("apps.jazz.export", __doc__, export, app="jazz")


if __name__ == "__main__":
    run_main(main, prog="apps.jazz.export")
