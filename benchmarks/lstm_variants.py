"""Prototype ways to cut the per-step work of an LSTM with the seqapps weight layout.

`seqapps.layers.LSTM` runs the generic `keras.layers.RNN` while loop: every step
reads x<t>, multiplies it by the kernel, multiplies a<t-1> by the recurrent
kernel, adds the bias and applies the gates. The variants here keep our weights
exactly as they are (`kernel` (features, 4u), `recurrent_kernel` (u, 4u), `bias`
(4u,), gate blocks i, f, c, o) and compute the same function with less work per
step:

- **hoisted** (a): x W + b for the whole sequence as one matmul before the loop;
  a `tf.while_loop` over steps then does only a<t-1> U and the gates. Masks
  (any padding: masked steps keep the state, as in Keras) and `go_backwards`.
- **block** (b): TensorFlow's fused CPU kernel `tf.raw_ops.BlockLSTMV2`
  (gate order i, f, c, o, ours; w = concat([kernel; recurrent_kernel]) of shape
  (features + u, 4u); gradient registered: `BlockLSTMGradV2`). No XLA kernel.
  Right-padded masks through `seq_len_max` plus a gather of each sequence's last
  step and zeroing, the backward direction through `tf.reverse_sequence`;
  left-padded masks are not supported.
- **unroll** (c): `seqapps.layers.LSTM(unroll=True)`: a Python loop over the
  fixed number of steps, for XLA (`jit_compile=True`) to fuse.
- **hoisted+unroll** (a + c): the hoisted projection with the steps unrolled.

Each variant is first checked against `seqapps.layers.LSTM` with the same
weights (outputs within 1e-5, gradients of the MSE loss with respect to the
weights and the inputs within 1e-4; unmasked, and for hoisted and block with a
right-padded mask, forward and backward). Then every variant is timed in the same
interleaved rounds as `layers.py` next to seqapps LSTM, keras LSTM and
torch.nn.LSTM, train step and inference, at both shapes of that benchmark.

Run from the repository root:

    python benchmarks/lstm_variants.py --markdown     # checks, then the full run (9 rounds)
    python benchmarks/lstm_variants.py --quick        # smoke test (a few minutes)
    python benchmarks/lstm_variants.py --check-only   # the exactness checks alone
"""

import argparse
import sys
import time

import layers as bench  # benchmarks/layers.py: timing, ratios, machine info; sets up TF
import numpy as np
from layers import SEED, SHAPES, keras, seqapps, tf, torch

OUTPUT_TOLERANCE = 1e-5
GRADIENT_TOLERANCE = 1e-4


# --------------------------------------------------------------------------- #
# The variants: Keras layers holding our three weights, computing our LSTM.


class _LSTMWeights(keras.layers.Layer):
    """kernel, recurrent_kernel and bias exactly as `seqapps.layers.LSTMCell` has them."""

    def __init__(self, units, return_sequences=False, go_backwards=False, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.return_sequences = return_sequences
        self.go_backwards = go_backwards
        self.zero_output_for_mask = False
        self.supports_masking = True

    def compute_mask(self, inputs, mask=None):
        return mask if self.return_sequences else None

    def build(self, input_shape):
        features, units = input_shape[-1], self.units
        self.kernel = self.add_weight(
            shape=(features, 4 * units), name="kernel", initializer="glorot_uniform"
        )
        self.recurrent_kernel = self.add_weight(
            shape=(units, 4 * units), name="recurrent_kernel", initializer="orthogonal"
        )
        forget_one = np.concatenate([np.zeros(units), np.ones(units), np.zeros(2 * units)])
        self.bias = self.add_weight(
            shape=(4 * units,),
            name="bias",
            initializer=keras.initializers.Constant(forget_one.astype("float32")),
        )

    def compute_output_shape(self, input_shape):
        if self.return_sequences:
            return (*input_shape[:2], self.units)
        return (input_shape[0], self.units)


def _gates(preactivation, memory):
    """Our LSTM step from the summed preactivation (blocks i, f, c, o)."""
    update, forget, candidate, output = tf.split(preactivation, 4, axis=-1)
    memory = tf.sigmoid(forget) * memory + tf.sigmoid(update) * tf.tanh(candidate)
    return tf.sigmoid(output) * tf.tanh(memory), memory


class HoistedLSTM(_LSTMWeights):
    """(a) x W + b for all steps as one matmul; the loop does only a<t-1> U and the gates.

    `unroll=True` runs a Python loop over the (static) steps instead of a
    `tf.while_loop`. Masks as in Keras: a masked step keeps the state, its
    output is the previous output (zeros with `zero_output_for_mask`).
    """

    def __init__(self, units, unroll=False, **kwargs):
        super().__init__(units, **kwargs)
        self.unroll = unroll

    def call(self, inputs, mask=None):
        units = self.units
        time_major = tf.transpose(inputs, [1, 0, 2])  # (T, B, F): the smaller tensor
        steps, batch = tf.shape(time_major)[0], tf.shape(time_major)[1]
        projected = tf.matmul(tf.reshape(time_major, [-1, inputs.shape[-1]]), self.kernel)
        projected = tf.reshape(projected + self.bias, [steps, batch, 4 * units])
        masks = None if mask is None else tf.transpose(tf.cast(mask, "bool"), [1, 0])[..., None]
        if self.go_backwards:
            projected = tf.reverse(projected, [0])
            masks = None if masks is None else tf.reverse(masks, [0])
        zeros = tf.zeros([batch, units], inputs.dtype)
        recurrent_kernel = tf.convert_to_tensor(self.recurrent_kernel)

        def step(projected_t, mask_t, activation, memory, output):
            new_activation, new_memory = _gates(
                projected_t + tf.matmul(activation, recurrent_kernel), memory
            )
            if mask_t is None:
                return new_activation, new_memory, new_activation
            kept = zeros if self.zero_output_for_mask else output
            return (
                tf.where(mask_t, new_activation, activation),
                tf.where(mask_t, new_memory, memory),
                tf.where(mask_t, new_activation, kept),
            )

        if self.unroll:
            state, outputs = (zeros, zeros, zeros), []
            for t in range(inputs.shape[1]):
                state = step(projected[t], None if masks is None else masks[t], *state)
                outputs.append(state[2])
            if not self.return_sequences:
                return state[2]
            return tf.stack(outputs, axis=1)

        projected_ta = tf.TensorArray(inputs.dtype, size=steps).unstack(projected)
        mask_ta = None if masks is None else tf.TensorArray("bool", size=steps).unstack(masks)
        carry = (tf.constant(0), zeros, zeros, zeros)
        if self.return_sequences:
            carry += (tf.TensorArray(inputs.dtype, size=steps),)

        def body(t, activation, memory, output, *output_ta):
            mask_t = None if mask_ta is None else mask_ta.read(t)
            activation, memory, output = step(
                projected_ta.read(t), mask_t, activation, memory, output
            )
            output_ta = tuple(ta.write(t, output) for ta in output_ta)
            return (t + 1, activation, memory, output, *output_ta)

        _, _, _, last, *output_ta = tf.while_loop(
            lambda t, *_: t < steps, body, carry, maximum_iterations=steps
        )
        if not self.return_sequences:
            return last
        return tf.transpose(output_ta[0].stack(), [1, 0, 2])


@tf.custom_gradient
def block_lstm_v2(seq_len_max, x, initial, weights, bias):
    """h of `BlockLSTMV2` (zero initial states, no peephole, no clipping), with its gradient.

    TensorFlow registers `BlockLSTMV2`'s gradient as the V1 op's: it calls
    `BlockLSTMGrad`, which assumes the V1 gate layout (i, c, f, o), so the weight,
    bias and input gradients come out wrong for V2's i, f, c, o (the exactness check
    shows it: errors of 1e-2 to 2e-1). This wrapper calls `BlockLSTMGradV2`.
    """
    no_peephole = tf.zeros(tf.shape(bias)[:1] // 4, x.dtype)
    forward = tf.raw_ops.BlockLSTMV2(
        seq_len_max=seq_len_max,
        x=x,
        cs_prev=initial,
        h_prev=initial,
        w=weights,
        wci=no_peephole,
        wcf=no_peephole,
        wco=no_peephole,
        b=bias,
        cell_clip=-1.0,  # no clipping of the cell state
        use_peephole=False,
    )

    def gradient(h_grad):
        grads = tf.raw_ops.BlockLSTMGradV2(
            seq_len_max=seq_len_max,
            x=x,
            cs_prev=initial,
            h_prev=initial,
            w=weights,
            wci=no_peephole,
            wcf=no_peephole,
            wco=no_peephole,
            b=bias,
            i=forward.i,
            cs=forward.cs,
            f=forward.f,
            o=forward.o,
            ci=forward.ci,
            co=forward.co,
            h=forward.h,
            cs_grad=tf.zeros_like(forward.cs),
            h_grad=h_grad,
            use_peephole=False,
        )
        # The initial states are constants here (zeros): no gradient for them.
        return None, grads.x_grad, None, grads.w_grad, grads.b_grad

    return forward.h, gradient


class BlockLSTM(_LSTMWeights):
    """(b) `tf.raw_ops.BlockLSTMV2`, TensorFlow's fused LSTM kernel, on our weights.

    The op computes [i, f, c, o] = [x<t>, h<t-1>] w + b with w (F + u, 4u), our
    gate order, for steps < seq_len_max (zeros after). Unmasked batches, or
    right-padded masks (each sequence's last output is gathered, padded steps
    are zeroed or carry the last output as in Keras); `go_backwards` reverses
    each sequence within its length (`tf.reverse_sequence`). A left-padded mask
    gives wrong results: this variant does not check.
    """

    def call(self, inputs, mask=None):
        units = self.units
        time_major = tf.transpose(inputs, [1, 0, 2])
        steps, batch = tf.shape(time_major)[0], tf.shape(time_major)[1]
        zeros = tf.zeros([batch, units], inputs.dtype)
        if mask is None:
            lengths = None
            seq_len_max = tf.cast(steps, "int64")
            if self.go_backwards:
                time_major = tf.reverse(time_major, [0])
        else:
            lengths = tf.reduce_sum(tf.cast(mask, "int32"), axis=1)
            seq_len_max = tf.cast(tf.reduce_max(lengths), "int64")
            if self.go_backwards:
                time_major = tf.reverse_sequence(time_major, lengths, seq_axis=0, batch_axis=1)
        weights = tf.concat([self.kernel, self.recurrent_kernel], axis=0)
        bias = tf.convert_to_tensor(self.bias)  # a tensor: the custom gradient sees no variable
        outputs = block_lstm_v2(seq_len_max, time_major, zeros, weights, bias)  # (T, B, u)
        if lengths is None:
            if not self.return_sequences:
                return outputs[-1]
            return tf.transpose(outputs, [1, 0, 2])

        # Each sequence's last real output (the initial state, zeros, if it is empty).
        index = tf.stack([tf.maximum(lengths - 1, 0), tf.range(batch)], axis=1)
        last = tf.where((lengths > 0)[:, None], tf.gather_nd(outputs, index), zeros)
        if not self.return_sequences:
            return last
        real = tf.transpose(tf.sequence_mask(lengths, steps), [1, 0])[..., None]  # (T, B, 1)
        if self.go_backwards:
            # Back onto the forward axis (padding stays at the end), then in Keras's
            # go_backwards order: the padded steps come first and output zeros.
            outputs = tf.reverse_sequence(outputs, lengths, seq_axis=0, batch_axis=1)
            outputs = tf.reverse(tf.where(real, outputs, 0.0), [0])
        else:
            kept = zeros if self.zero_output_for_mask else last
            outputs = tf.where(real, outputs, kept[None])
        return tf.transpose(outputs, [1, 0, 2])


def _hoisted_sequence(time_major, kernel, recurrent_kernel, bias):
    """All outputs h<t> (T, B, u) with a hand-written backward pass (no mask).

    Forward: x W + b for all steps in one matmul, then a loop doing a<t-1> U and
    the gates, saving the gate activations and the memory. Backward: a loop doing
    only the gate algebra and one matmul per step (dz<t> U^T, for a<t-1>); the
    weight, bias and input gradients are then one matmul each over the whole
    sequence (as cuDNN and torch do), where TensorFlow's automatic gradient of the
    loop computes them step by step.
    """

    @tf.custom_gradient
    def run(time_major, kernel, recurrent_kernel, bias):
        features = time_major.shape[-1]
        units = recurrent_kernel.shape[0]
        steps, batch = tf.shape(time_major)[0], tf.shape(time_major)[1]
        flat = tf.reshape(time_major, [-1, features])
        projected = tf.reshape(tf.matmul(flat, kernel) + bias, [steps, batch, 4 * units])
        projected_ta = tf.TensorArray(time_major.dtype, size=steps).unstack(projected)
        zeros = tf.zeros([batch, units], time_major.dtype)

        def forward(t, activation, memory, outputs, memories, gates):
            z = projected_ta.read(t) + tf.matmul(activation, recurrent_kernel)
            update, forget, candidate, output = tf.split(z, 4, axis=-1)
            update, forget, output = tf.sigmoid(update), tf.sigmoid(forget), tf.sigmoid(output)
            candidate = tf.tanh(candidate)
            memory = forget * memory + update * candidate
            activation = output * tf.tanh(memory)
            return (
                t + 1,
                activation,
                memory,
                outputs.write(t, activation),
                memories.write(t, memory),
                gates.write(t, tf.concat([update, forget, candidate, output], axis=-1)),
            )

        def array():
            return tf.TensorArray(time_major.dtype, size=steps)

        _, _, _, outputs, memories, gates = tf.while_loop(
            lambda t, *_: t < steps,
            forward,
            (tf.constant(0), zeros, zeros, array(), array(), array()),
            maximum_iterations=steps,
        )
        outputs, memories, gates = outputs.stack(), memories.stack(), gates.stack()

        def gradient(output_grads):
            output_grads_ta = tf.TensorArray(time_major.dtype, size=steps).unstack(output_grads)
            memories_ta = tf.TensorArray(time_major.dtype, size=steps).unstack(memories)
            gates_ta = tf.TensorArray(time_major.dtype, size=steps).unstack(gates)
            transposed_recurrent = tf.transpose(recurrent_kernel)

            def backward(t, activation_grad, memory_grad, preactivation_grads):
                memory = memories_ta.read(t)
                previous_memory = tf.cond(t > 0, lambda: memories_ta.read(t - 1), lambda: zeros)
                update, forget, candidate, output = tf.split(gates_ta.read(t), 4, axis=-1)
                activation_grad = activation_grad + output_grads_ta.read(t)
                squashed = tf.tanh(memory)
                memory_grad = memory_grad + activation_grad * output * (1.0 - squashed * squashed)
                dz = tf.concat(
                    [
                        memory_grad * candidate * update * (1.0 - update),
                        memory_grad * previous_memory * forget * (1.0 - forget),
                        memory_grad * update * (1.0 - candidate * candidate),
                        activation_grad * squashed * output * (1.0 - output),
                    ],
                    axis=-1,
                )
                return (
                    t - 1,
                    tf.matmul(dz, transposed_recurrent),
                    memory_grad * forget,
                    preactivation_grads.write(t, dz),
                )

            _, _, _, preactivation_grads = tf.while_loop(
                lambda t, *_: t >= 0,
                backward,
                (steps - 1, zeros, zeros, array()),
                maximum_iterations=steps,
            )
            dz = tf.reshape(preactivation_grads.stack(), [-1, 4 * units])  # (T B, 4u)
            previous = tf.reshape(
                tf.concat([zeros[None], outputs[:-1]], axis=0), [-1, units]
            )  # a<t-1> for every step
            inputs_grad = tf.reshape(
                tf.matmul(dz, kernel, transpose_b=True), [steps, batch, features]
            )
            kernel_grad = tf.matmul(flat, dz, transpose_a=True)
            recurrent_grad = tf.matmul(previous, dz, transpose_a=True)
            return inputs_grad, kernel_grad, recurrent_grad, tf.reduce_sum(dz, axis=0)

        return outputs, gradient

    return run(time_major, kernel, recurrent_kernel, bias)


class HoistedGradientLSTM(HoistedLSTM):
    """(a2) Training: the hoisted forward pass with a hand-written backward pass (no mask).

    Inference (`training=False`) runs the plain hoisted loop of (a), which saves nothing.
    """

    def call(self, inputs, mask=None, training=False):
        if not training:
            return super().call(inputs, mask=mask)
        if mask is not None:
            raise NotImplementedError("the hoisted-gradient prototype takes no mask")
        time_major = tf.transpose(inputs, [1, 0, 2])
        if self.go_backwards:
            time_major = tf.reverse(time_major, [0])
        weights = [tf.convert_to_tensor(w) for w in (self.kernel, self.recurrent_kernel, self.bias)]
        outputs = _hoisted_sequence(time_major, *weights)
        if not self.return_sequences:
            return outputs[-1]
        return tf.transpose(outputs, [1, 0, 2])


def seqapps_lstm(units, **kwargs):
    return seqapps.layers.LSTM(units, **kwargs)


# name -> (factory(units, **layer kwargs), jit settings timed, supports masks in the check)
VARIANTS = {
    "hoisted": (lambda units, **kw: HoistedLSTM(units, **kw), (False, True), True),
    "hoisted+grad": (lambda units, **kw: HoistedGradientLSTM(units, **kw), (False, True), False),
    "block": (lambda units, **kw: BlockLSTM(units, **kw), (False,), True),
    "unroll": (lambda units, **kw: seqapps_lstm(units, unroll=True, **kw), (False, True), True),
    "hoisted+unroll": (
        lambda units, **kw: HoistedLSTM(units, unroll=True, **kw),
        (False, True),
        True,
    ),
}


# --------------------------------------------------------------------------- #
# Exactness against seqapps.layers.LSTM.


def _outputs_and_gradients(layer, x, mask, jit):
    @tf.function(jit_compile=jit)
    def run(inputs):
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            # training=True: the path a train step takes (no dropout here, so the same function)
            if mask is not None:
                outputs = layer(inputs, mask=mask, training=True)
            else:
                outputs = layer(inputs, training=True)
            loss = tf.reduce_mean(tf.square(outputs - 0.5))
        weights = [layer.weights[0], layer.weights[1], layer.weights[2]]
        return outputs, tape.gradient(loss, [*weights, inputs])

    outputs, gradients = run(x)
    return outputs.numpy(), [g.numpy() for g in gradients]


def _right_padded_mask(batch, steps, rng):
    lengths = rng.integers(1, steps + 1, size=batch)
    lengths[0] = steps  # one full-length sequence
    return tf.constant(np.arange(steps)[None, :] < lengths[:, None])


# Every mask/direction/output case at a small shape; at the benchmark's shapes, the
# timed case (no mask, forward, last output).
CHECK_SHAPE = (8, 12, 6, 5)
CASES = [
    (masked, backwards, sequences)
    for masked in (False, True)
    for backwards in (False, True)
    for sequences in (False, True)
]


def check_exactness(shapes=SHAPES):
    """Max abs differences from seqapps.layers.LSTM; a list of result rows, and all passed.

    Every case at `CHECK_SHAPE`, the timed case at each of `shapes`.
    """
    rows, passed = [], True
    rng = np.random.default_rng(SEED)
    plan = [(CHECK_SHAPE, CASES)] + [(shape, [(False, False, False)]) for shape in shapes]
    for (batch, steps, features, units), cases in plan:
        x = tf.constant(rng.standard_normal((batch, steps, features), dtype=np.float32))
        mask = _right_padded_mask(batch, steps, rng)
        for masked, backwards, sequences in cases:
            options = {"return_sequences": sequences, "go_backwards": backwards}
            reference = seqapps_lstm(units, **options)
            reference(x[:1])
            expected, expected_grads = _outputs_and_gradients(
                reference, x, mask if masked else None, jit=False
            )
            for name, (make, jits, masks) in VARIANTS.items():
                if masked and not masks:
                    continue
                layer = make(units, **options)
                layer(x[:1])
                layer.set_weights(reference.get_weights())
                for jit in jits:
                    got, grads = _outputs_and_gradients(layer, x, mask if masked else None, jit)
                    output_error = float(np.max(np.abs(got - expected)))
                    gradient_error = max(
                        float(np.max(np.abs(g - e))) for g, e in zip(grads, expected_grads)
                    )
                    relative_error = max(
                        float(np.max(np.abs(g - e)) / max(np.max(np.abs(e)), 1e-30))
                        for g, e in zip(grads, expected_grads)
                    )
                    ok = output_error <= OUTPUT_TOLERANCE and gradient_error <= GRADIENT_TOLERANCE
                    passed &= ok
                    rows.append(
                        [
                            name,
                            f"jit {'on' if jit else 'off'}",
                            "x".join(map(str, (batch, steps, features, units))),
                            "right-padded" if masked else "none",
                            "backward" if backwards else "forward",
                            "sequence" if sequences else "last",
                            f"{output_error:.1e}",
                            f"{gradient_error:.1e}",
                            f"{relative_error:.1e}",
                            "ok" if ok else "FAIL",
                        ]
                    )
        print(
            f"  checked {'x'.join(map(str, (batch, steps, features, units)))}",
            file=sys.stderr,
            flush=True,
        )
    return rows, passed


CHECK_HEADER = [
    "variant",
    "jit",
    "shape BxTxFxU",
    "mask",
    "direction",
    "output",
    "max |Δ output|",
    "max |Δ gradient|",
    "relative Δ gradient",
    "result",
]


# --------------------------------------------------------------------------- #
# Timing.

# method -> its columns (one per jit setting)
METHODS = {
    "seqapps LSTM": ("seqapps jit off", "seqapps jit on"),
    "keras LSTM": ("keras jit off", "keras jit on"),
    **{
        f"{name} ({letter})": tuple(f"{name} jit {'on' if j else 'off'}" for j in jits)
        for (name, (_, jits, _)), letter in zip(VARIANTS.items(), ("a", "a2", "b", "c", "a+c"))
    },
}


# torch.nn.LSTM at its default threads and, where that is more than one, with one
# (see layers.py: under load from other processes its OpenMP threads stall); the
# ratios use torch's faster setting in each round.
TORCH = {"torch": bench.TORCH_THREADS}
if bench.TORCH_THREADS is not None and bench.TORCH_THREADS > 1:
    TORCH["torch 1 thread"] = 1


def build_row(shape, mode, use_torch):
    batch, steps, features, units = shape
    rng = np.random.default_rng(SEED)
    x_np = rng.standard_normal((batch, steps, features), dtype=np.float32)
    y_np = rng.standard_normal((batch, units), dtype=np.float32)
    x, y = tf.constant(x_np), tf.constant(y_np)
    variants = {}
    for jit in (False, True):
        suffix = "on" if jit else "off"
        variants[f"seqapps jit {suffix}"] = bench.keras_variant(
            lambda: seqapps_lstm(units), x, y, mode, jit
        )
        variants[f"keras jit {suffix}"] = bench.keras_variant(
            lambda: keras.layers.LSTM(units), x, y, mode, jit
        )
    for name, (make, jits, _) in VARIANTS.items():
        for jit in jits:
            variants[f"{name} jit {'on' if jit else 'off'}"] = bench.keras_variant(
                lambda make=make: make(units), x, y, mode, jit
            )
    if use_torch:
        for name, threads in TORCH.items():
            torch.manual_seed(SEED)
            variants[name] = bench.torch_variant(
                lambda: bench._torch_lstm(features, units),
                torch.from_numpy(x_np),
                torch.from_numpy(y_np),
                mode,
                False,
                threads,
            )
    return variants


def timing_rows(results):
    rows = []
    for (shape, mode), (medians, samples) in results.items():
        for method, columns in METHODS.items():
            cells = [medians.get(c) for c in columns]
            rows.append(
                [
                    "x".join(map(str, shape)),
                    mode,
                    method,
                    bench._ms(cells[0]),
                    bench._ms(cells[1] if len(cells) > 1 else None),
                    bench._ratio(bench.paired_ratio(samples, columns, METHODS["seqapps LSTM"])),
                    bench._ratio(bench.paired_ratio(samples, columns, tuple(TORCH))),
                    f"{100 * max(bench.spread(samples[c]) for c in columns):.0f}%",
                ]
            )
        torch_columns = tuple(c for c in TORCH if c in samples)
        if torch_columns:
            rows.append(
                [
                    "x".join(map(str, shape)),
                    mode,
                    "torch.nn.LSTM (threads: default / 1)",
                    *(bench._ms(medians.get(c)) for c in (*TORCH, None)[:2]),
                    bench._ratio(
                        bench.paired_ratio(samples, torch_columns, METHODS["seqapps LSTM"])
                    ),
                    "1.00",
                    f"{100 * max(bench.spread(samples[c]) for c in torch_columns):.0f}%",
                ]
            )
    return rows


TIMING_HEADER = [
    "shape BxTxFxU",
    "mode",
    "method",
    "jit off (ms)",
    "jit on (ms)",
    "/ seqapps (best)",
    "/ torch (best)",
    "spread",
]


def format_table(header, rows, markdown, text_columns):
    bench_header = bench.HEADER
    try:
        bench.HEADER = header
        if markdown:
            lines = ["| " + " | ".join(header) + " |"]
            lines.append(
                "|"
                + "|".join("---" if i < text_columns else "---:" for i in range(len(header)))
                + "|"
            )
            lines += ["| " + " | ".join(row) + " |" for row in rows]
            return "\n".join(lines)
        return bench.format_table(rows, markdown=False)
    finally:
        bench.HEADER = bench_header


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="Check and time LSTM variants with the seqapps weight layout "
        "against seqapps, keras and torch LSTMs (CPU)."
    )
    parser.add_argument("--rounds", type=int, default=None, help="default 9, 3 with --quick")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke test (a few minutes), indicative only: checks at the small shape only, "
        "the first shape timed, 3 short rounds",
    )
    parser.add_argument("--no-torch", action="store_true", help="skip torch.nn.LSTM")
    parser.add_argument("--check-only", action="store_true", help="run the exactness checks only")
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables")
    args = parser.parse_args(argv)
    if args.rounds is None:
        args.rounds = 3 if args.quick else 9
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    return args


def main(argv=None):
    args = parse_args(argv)
    use_torch = torch is not None and not args.no_torch
    warmup, target_s, min_iters = (2, 0.05, 2) if args.quick else (3, 0.25, 3)
    keras.utils.set_random_seed(SEED)
    print("LSTM variants with the seqapps weight layout")
    for key, value in bench.machine_info().items():
        print(f"  {key}: {value}")
    print(f"  rounds: {args.rounds}, ~{target_s:.2f} s per timing", flush=True)

    started = time.perf_counter()
    check_rows, passed = check_exactness(() if args.quick else SHAPES)
    print(
        f"  exactness checks: {len(check_rows)} ({time.perf_counter() - started:.0f} s)",
        file=sys.stderr,
        flush=True,
    )
    print()
    print(
        f"Exactness vs seqapps.layers.LSTM (tolerance: outputs {OUTPUT_TOLERANCE:g}, "
        f"gradients {GRADIENT_TOLERANCE:g}, absolute; gradients of the MSE loss w.r.t. "
        "kernel, recurrent_kernel, bias and inputs; relative: the largest max |Δ| / max "
        "|reference| over those four)"
    )
    print(format_table(CHECK_HEADER, check_rows, args.markdown, 6))
    print()
    if not passed:
        print("Some checks failed: no timing.")
        return 1
    if args.check_only:
        return 0

    results = {}
    for shape in SHAPES[:1] if args.quick else SHAPES:
        for mode in bench.MODES:
            variants = build_row(shape, mode, use_torch)
            started = time.perf_counter()
            results[(shape, mode)] = bench.measure_row(
                variants, args.rounds, warmup, target_s, min_iters
            )
            print(
                f"  measured {'x'.join(map(str, shape))} {mode} "
                f"({time.perf_counter() - started:.0f} s)",
                file=sys.stderr,
                flush=True,
            )
    print(format_table(TIMING_HEADER, timing_rows(results), args.markdown, 3))
    print()
    print(
        "Times: ms per iteration, median over rounds. '/ seqapps (best)': the method at its "
        "best jit setting over seqapps LSTM at its best, median of per-round ratios; "
        "'/ torch': the same over torch.nn.LSTM at its best of default threads and 1 "
        "thread (for torch's row: torch's two settings in the two ms columns). spread: "
        "largest relative IQR of the "
        "method's columns."
    )
    print()
    for (shape, mode), (_, samples) in results.items():
        winners = [
            f"{method} {bench.paired_ratio(samples, columns, METHODS['seqapps LSTM']):.2f}"
            for method, columns in METHODS.items()
            if method not in ("seqapps LSTM", "keras LSTM")
            and bench.paired_ratio(samples, columns, METHODS["seqapps LSTM"]) <= 0.90
        ]
        print(
            f"  {'x'.join(map(str, shape))} {mode}: >= 10 % faster than seqapps LSTM: "
            f"{', '.join(winners) or 'none'}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
