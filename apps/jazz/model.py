"""The improviser: a stack of seqapps LSTMs (or GRUs) over token, chord and metre.

At step `t` the model reads the token of step `t - 1` (`START` at step 0),
the chord sounding at step `t` (13-d pitch-class vector, see
`seqapps.music.chord_vector`) and where step `t` falls in the bar (its
twelfth of a beat and its beat), and predicts the token of step `t`.

    x_t = [E_token(y_{t-1}); chord_t; E_step(t mod 12); E_beat(t div 12 mod beats_per_bar)]
    h_t = RNN_L(... RNN_1(x_t))
    p(y_t | y_<t, chords) = softmax(W [h_t; x_t] + b)

(with `--no-input-skip`, `softmax(W h_t + b)`).

Training uses teacher forcing (loss `token_loss`: the mean cross-entropy over the
real, non-`PAD` steps); generation (`sampler`) runs the same layers
one step at a time in `seqapps.sampling.RecurrentSampler`'s compiled loop.
"""

from seqapps import music

MAX_BEATS_PER_BAR = 8
INPUT_NAMES = ("tokens", "chords", "step_in_beat", "beat_in_bar")


def build_model(options):
    """The teacher-forced training/scoring model: inputs `INPUT_NAMES`, outputs logits."""
    import keras

    from seqapps.training import recurrent_stack

    tokens = keras.Input((None,), dtype="int32", name="tokens")
    chords = keras.Input((None, music.CHORD_DIM), name="chords")
    step_in_beat = keras.Input((None,), dtype="int32", name="step_in_beat")
    beat_in_bar = keras.Input((None,), dtype="int32", name="beat_in_bar")
    features = keras.layers.Concatenate(name="step_features")(
        [
            keras.layers.Embedding(music.VOCAB_SIZE, options.embedding_dim, name="token_embedding")(
                tokens
            ),
            chords,
            keras.layers.Embedding(music.STEPS_PER_BEAT, 8, name="step_embedding")(step_in_beat),
            keras.layers.Embedding(MAX_BEATS_PER_BAR, 4, name="beat_embedding")(beat_in_bar),
        ]
    )
    hidden = features
    for layer in recurrent_stack(
        options,
        return_sequences=True,
        dropout=options.dropout,
        recurrent_dropout=options.recurrent_dropout,
    ):
        hidden = layer(hidden)
    hidden = keras.layers.Dropout(options.dropout, seed=options.seed, name="output_dropout")(hidden)
    if getattr(options, "input_skip", False):
        # The output layer also sees the step's chord and position directly, so
        # "favour the chord's tones" is one linear map rather than something
        # the recurrent state must carry.
        hidden = keras.layers.Concatenate(name="skip")([hidden, features])
    logits = keras.layers.Dense(music.VOCAB_SIZE, name="next_token")(hidden)
    return keras.Model([tokens, chords, step_in_beat, beat_in_bar], logits, name="jazz_improviser")


def token_loss():
    """The training loss: mean next-token cross-entropy (from logits) over the real steps.

    `seqapps.losses.TokenCrossentropy` with `PAD` targets left out: the mean over the
    non-padded steps of the global batch, the same on one device and under any
    distribution strategy (sample weights, if given, weight the steps further).
    """
    from seqapps.losses import TokenCrossentropy

    return TokenCrossentropy(from_logits=True, ignore_class=music.PAD)


def metrical_positions(steps, beats_per_bar):
    """`(step_in_beat, beat_in_bar)` int32 arrays for steps `0..steps-1` (step 0 a downbeat)."""
    import numpy as np

    index = np.arange(steps)
    return (
        (index % music.STEPS_PER_BEAT).astype("int32"),
        np.minimum((index // music.STEPS_PER_BEAT) % beats_per_bar, MAX_BEATS_PER_BAR - 1).astype(
            "int32"
        ),
    )


def recurrent_layers(model):
    """The model's recurrent layers, first first."""
    layers = []
    while True:
        try:
            layers.append(model.get_layer(f"recurrent_{len(layers)}"))
        except ValueError:
            return layers


def sampler(model):
    """A `RecurrentSampler` running `model`'s layers one step at a time.

    Its conditions are `[chord (13), beats_per_bar (1)]` per step; the step's
    place in the bar comes from the step index, so conditions may cycle.
    Temperature, top-k and top-p apply to the choice of pitch only (see
    `RecurrentSampler`'s `tempered_ids`); temperature 0 (greedy) starts a note
    where the note-ons together are at least as likely as all other tokens,
    and plays the most likely pitch.
    """
    cached = getattr(model, "_seqapps_sampler", None)
    if cached is None:
        # One per model, so its compiled loops are traced once.
        cached = model._seqapps_sampler = _build_sampler(model)
    return cached


def _build_sampler(model):
    import tensorflow as tf

    from seqapps.sampling import RecurrentSampler

    token_embedding = model.get_layer("token_embedding")
    step_embedding = model.get_layer("step_embedding")
    beat_embedding = model.get_layer("beat_embedding")
    steps_per_beat = music.STEPS_PER_BEAT

    def step_input(tokens, condition, step):
        # The layout of `sampler_conditions`: the chord, then the beats per bar.
        chord = condition[:, : music.CHORD_DIM]
        beats_per_bar = tf.cast(condition[:, music.CHORD_DIM], tf.int32)
        step_in_beat = tf.fill(tf.shape(tokens), step % steps_per_beat)
        beat = (step // steps_per_beat) % tf.maximum(beats_per_bar, 1)
        beat = tf.minimum(beat, MAX_BEATS_PER_BAR - 1)
        return tf.concat(
            [
                token_embedding(tokens),
                tf.cast(chord, token_embedding.compute_dtype),
                step_embedding(step_in_beat),
                beat_embedding(beat),
            ],
            axis=-1,
        )

    cells = [layer.cell for layer in recurrent_layers(model)]
    has_skip = any(layer.name == "skip" for layer in model.layers)
    return RecurrentSampler(
        cells,
        step_input,
        model.get_layer("next_token"),
        start_id=music.START,
        pad_id=music.PAD,
        head_sees_inputs=has_skip,
        # Temperature and top-k/top-p reshape which pitch is played, not how
        # often a note starts: at 12 steps per beat a note-on is rare at any
        # one step, and tempering it would silence the solo.
        tempered_ids=range(music.NOTE_OFFSET, music.VOCAB_SIZE),
    )


def sampler_conditions(chords, beats_per_bar):
    """The sampler's conditions: each step's chord, then the bar's beats (a float).

    The one place the metre joins the chords; `sampler` reads the step's place in
    the bar from it and the step index. TensorFlow ops, so the exported generator
    (`apps.jazz.exporting`) builds its conditions with it too.

    Args:
        chords: `[..., steps, 13]` chord vectors.
        beats_per_bar: Beats per bar: a number, or one per sequence (`[batch, 1, 1]`).

    Returns:
        A float32 tensor `[..., steps, 14]`.
    """
    import tensorflow as tf

    chords = tf.cast(chords, tf.float32)
    metre = tf.ones_like(chords[..., :1]) * tf.cast(beats_per_bar, tf.float32)
    return tf.concat([chords, metre], axis=-1)
