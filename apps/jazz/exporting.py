"""The SavedModel of a trained improviser: its sampling loop, served with TensorFlow only."""

from apps.jazz.model import sampler, sampler_conditions
from seqapps import music
from seqapps.export import write_saved_model


def export(model, out):
    """Write the generator SavedModel of a trained improviser to `out`.

    Its `serving_default` (also `generate`) signature takes

    * `chords`: float32 `[chord_steps, 13]`, the chord of each step (12 pitch
      classes, C first, then a "no chord" flag; `seqapps.music.chords_per_step`
      builds it from symbols). It cycles when `steps` is longer.
    * `steps`: int32 scalar, the number of steps to generate (12 per beat).
    * `temperature`: float32 scalar (0: greedy) and `top_p`: float32 scalar
      (1: off), applied to the choice of pitch (the recipe: 0.8 and 0.9).
    * `seed`: int32 scalar (the same seed gives the same solo).
    * `beats_per_bar`: int32 scalar (4 for 4/4); step 0 is a downbeat.

    and returns `tokens`: int32 `[steps]`. It needs TensorFlow only:
    `seqapps.music.write_midi(path, tokens, chords, tempo, beats_per_bar)` turns
    the tokens into a MIDI file without any training code (see the app README).
    """
    import tensorflow as tf

    generator = sampler(model)

    def generate(chords, steps, temperature, top_p, seed, beats_per_bar):
        result = generator.loop(
            steps,
            sampler_conditions(chords, beats_per_bar)[tf.newaxis],
            prefix=tf.zeros([1, 1], tf.int32),
            prefix_lengths=tf.zeros([1], tf.int32),
            temperature=temperature,
            top_k=0,
            top_p=top_p,
            seed=seed,
        )
        return {"tokens": result["tokens"][0]}

    signature = [
        tf.TensorSpec([None, music.CHORD_DIM], tf.float32, name="chords"),
        tf.TensorSpec([], tf.int32, name="steps"),
        tf.TensorSpec([], tf.float32, name="temperature"),
        tf.TensorSpec([], tf.float32, name="top_p"),
        tf.TensorSpec([], tf.int32, name="seed"),
        tf.TensorSpec([], tf.int32, name="beats_per_bar"),
    ]
    endpoint = (generate, signature)
    return write_saved_model(out, [model], {"serving_default": endpoint, "generate": endpoint})
