"""Compiled autoregressive sampling from a stack of recurrent cells.

A language model or a conditioned generator trained with teacher forcing runs
`step_input -> cells -> head` once per step: the token emitted at step `t - 1`
(a start token at step 0) and the step's conditioning vector go in, logits of
the token at step `t` come out. `RecurrentSampler` runs that step inside one
`tf.function` whose `tf.while_loop` carries the recurrent state, so a whole
batch of sequences is generated in a single call (optionally compiled with
XLA) instead of one `model.predict` per step.

At each step the logits are divided by the temperature, optionally cut to the
`top_k` most likely tokens and to the smallest set whose probability reaches
`top_p` (nucleus sampling), and one token is drawn with a stateless random op
seeded by `(seed, step)`: the same seed gives the same tokens. A temperature
of 0 means greedy decoding (argmax; with a tempered token group, the argmax
inside whichever of the group and the rest is more likely: see
`RecurrentSampler`).

Example:
    >>> sampler = RecurrentSampler(
    ...     cells=[layer.cell for layer in recurrent_layers],
    ...     step_input=lambda tokens, condition, step: embedding(tokens),
    ...     head=output_dense,
    ...     start_id=1,
    ...     end_id=2,
    ... )
    >>> result = sampler.generate(batch_size=8, steps=30, temperature=0.8, seed=1)
    >>> result.tokens.shape
    (8, 30)
"""

import dataclasses

import numpy as np


@dataclasses.dataclass
class Samples:
    """What `RecurrentSampler.generate` returns.

    Attributes:
        tokens: int32 `[batch, steps]`: forced prefix, then sampled tokens;
            after an end token, `pad_id`.
        lengths: int32 `[batch]`: tokens before the end token (all steps if
            none was emitted).
        log_probs: float32 `[batch]`: sum of the model's (untempered) log
            probabilities of every emitted token, prefix and end token
            included.
    """

    tokens: np.ndarray
    lengths: np.ndarray
    log_probs: np.ndarray


def _as_list(states):
    return list(states) if isinstance(states, (list, tuple)) else [states]


class RecurrentSampler:
    """Samples sequences from recurrent cells in one compiled loop.

    Args:
        cells: The recurrent cells, first layer first (for a trained model,
            `[layer.cell for layer in recurrent_layers]`; unidirectional).
        step_input: `step_input(tokens, condition, step) -> inputs`: the
            first cell's input `[batch, features]` from the previous tokens
            (int32 `[batch]`), the step's condition (`[batch, C]`, or `None`
            when the sampler is called without conditions) and the step index
            (int32 scalar).
        head: `head(outputs) -> logits`: `[batch, hidden] -> [batch, vocab]`.
        start_id: Token fed at step 0.
        end_id: Optional end token: a sequence that emits it is finished; its
            later tokens are `pad_id`, and the loop stops once every sequence
            is finished.
        pad_id: Token written after the end token.
        head_sees_inputs: The head reads `[outputs; inputs]` (the last cell's
            output concatenated with the step's input features), for models
            whose output layer has such a skip connection.
        tempered_ids: Optional token ids that temperature, `top_k` and `top_p`
            apply to. The choice among them is reshaped while their total
            probability, and every other token's, stays the model's: a melody
            model can sharpen which pitch it plays without changing how often
            it plays (`None`: every token is tempered).

    Greedy decoding (temperature 0): without `tempered_ids`, the most likely
    token, argmax_j p(j). With a tempered group G, sampling can be read as two
    draws: the group or the rest R (all other tokens) by their total
    probabilities P(G) = Σ_{j∈G} p(j) and P(R) = 1 − P(G), then a token inside
    the chosen side (tempered in G, untempered in R). Greedy takes the most
    likely outcome of each draw:

        side  = G if P(G) >= P(R) else R
        token = argmax_{j ∈ side} p(j)

    so a note is played at a step where notes together are more likely than
    not, even when no single pitch beats a rest (a plain argmax over all
    tokens would almost never play). Ties of the two masses go to the group.
    `top_k` and `top_p` do not change a greedy choice.
    """

    def __init__(
        self,
        cells,
        step_input,
        head,
        start_id,
        end_id=None,
        pad_id=0,
        head_sees_inputs=False,
        tempered_ids=None,
    ):
        self.head_sees_inputs = bool(head_sees_inputs)
        self.tempered_ids = None if tempered_ids is None else sorted(int(i) for i in tempered_ids)
        self.cells = list(cells)
        self.step_input = step_input
        self.head = head
        self.start_id = int(start_id)
        self.end_id = None if end_id is None else int(end_id)
        self.pad_id = int(pad_id)
        self._functions = {}

    # One step ------------------------------------------------------------
    def initial_state(self, batch_size):
        """Zero states: one list of tensors per cell."""
        return [_as_list(cell.get_initial_state(batch_size)) for cell in self.cells]

    def step(self, tokens, condition, step, states):
        """One step: `(logits [batch, vocab], new_states)` after `tokens`."""
        import tensorflow as tf

        step_inputs = self.step_input(tokens, condition, step)
        outputs = step_inputs
        new_states = []
        for cell, state in zip(self.cells, states):
            outputs, state = cell(outputs, list(state), training=False)
            new_states.append(_as_list(state))
        if self.head_sees_inputs:
            outputs = tf.concat([outputs, tf.cast(step_inputs, outputs.dtype)], axis=-1)
        return self.head(outputs), new_states

    # The loop ------------------------------------------------------------
    def loop(self, steps, conditions, prefix, prefix_lengths, temperature, top_k, top_p, seed):
        """The generation graph, to call inside a `tf.function` (e.g. a SavedModel endpoint).

        Arguments are tensors as described in `function`; `conditions` may be
        None. Returns a dict of `tokens`, `lengths` and `log_probs` tensors.
        """
        import tensorflow as tf

        # The batch comes from the prefix's static shape so XLA sees fixed sizes.
        batch_size = tf.shape(prefix)[0]
        steps = tf.cast(steps, tf.int32)
        temperature = tf.cast(temperature, tf.float32)
        top_k = tf.cast(top_k, tf.int32)
        top_p = tf.cast(top_p, tf.float32)
        seed = tf.cast(seed, tf.int32)
        prefix = tf.cast(prefix, tf.int32)
        prefix_lengths = tf.cast(prefix_lengths, tf.int32)
        prefix_width = tf.shape(prefix)[1]
        filtering = tf.logical_or(top_k > 0, top_p < 1.0)
        if conditions is not None:
            conditions = tf.cast(conditions, tf.float32)
            condition_steps = tf.shape(conditions)[1]

        def filter_logits(logits):
            # Keep the top_k largest and the smallest set reaching top_p.
            ordered = tf.sort(logits, axis=-1, direction="DESCENDING")
            vocab = tf.shape(logits)[-1]
            rank = tf.range(vocab)[tf.newaxis, :]
            before = tf.math.cumsum(tf.nn.softmax(ordered), axis=-1, exclusive=True)
            keep = before < top_p
            keep = tf.logical_and(keep, tf.logical_or(top_k <= 0, rank < top_k))
            keep = tf.logical_or(keep, rank == 0)
            threshold = tf.reduce_min(tf.where(keep, ordered, ordered.dtype.max), axis=-1)
            return tf.where(logits < threshold[:, tf.newaxis], ordered.dtype.min, logits)

        def reshape(logits):
            scaled = logits / tf.maximum(temperature, 1e-6)
            return tf.cond(filtering, lambda: filter_logits(scaled), lambda: scaled)

        def group_mask(logits):
            # A constant of the traced graph: the head's output size is static.
            in_group = np.zeros(logits.shape[-1], bool)
            in_group[self.tempered_ids] = True
            return in_group

        def reshape_group(logits):
            # Temper and cut within the group, then give the group back its mass.
            in_group = group_mask(logits)
            log_probs = tf.nn.log_softmax(logits)
            lowest = log_probs.dtype.min
            group_mass = tf.reduce_logsumexp(
                tf.where(in_group, log_probs, lowest), axis=-1, keepdims=True
            )
            inner = tf.nn.log_softmax(reshape(tf.where(in_group, log_probs, lowest)))
            return tf.where(in_group, inner + group_mass, log_probs)

        def greedy_group(logits):
            # Greedy in two stages, as sampling is: the side (group or rest) with the larger
            # total probability, then that side's most likely token. A plain argmax would
            # weigh one group token against whole other tokens: a rest would win every
            # step where the pitch is uncertain, however likely a note is.
            in_group = group_mask(logits)
            log_probs = tf.nn.log_softmax(logits)
            group_mass = tf.reduce_logsumexp(tf.where(in_group, log_probs, -np.inf), axis=-1)
            rest_mass = tf.reduce_logsumexp(tf.where(in_group, -np.inf, log_probs), axis=-1)
            lowest = logits.dtype.min
            best_in_group = tf.argmax(
                tf.where(in_group, logits, lowest), axis=-1, output_type=tf.int32
            )
            best_in_rest = tf.argmax(
                tf.where(in_group, lowest, logits), axis=-1, output_type=tf.int32
            )
            return tf.where(group_mass >= rest_mass, best_in_group, best_in_rest)

        def choose(logits, step):
            scaled = reshape(logits) if self.tempered_ids is None else reshape_group(logits)
            drawn = tf.random.stateless_categorical(
                scaled, 1, seed=tf.stack([seed, step]), dtype=tf.int32
            )[:, 0]
            if self.tempered_ids is None:
                greedy = tf.argmax(logits, axis=-1, output_type=tf.int32)
            else:
                greedy = greedy_group(logits)
            return tf.where(temperature > 0.0, drawn, greedy)

        def body(step, previous, states, finished, lengths, log_probs, written):
            condition = None
            if conditions is not None:
                condition = conditions[:, step % condition_steps]
            logits, states = self.step(previous, condition, step, states)
            logits = tf.cast(logits, tf.float32)
            token = choose(logits, step)
            forced = prefix[:, tf.minimum(step, prefix_width - 1)]
            token = tf.where(step < prefix_lengths, forced, token)
            log_softmax = tf.nn.log_softmax(logits)
            token_log_prob = tf.gather(log_softmax, token, axis=1, batch_dims=1)
            log_probs += tf.where(finished, 0.0, token_log_prob)
            emitted = tf.where(finished, self.pad_id, token)
            if self.end_id is not None:
                ended = tf.logical_and(tf.logical_not(finished), token == self.end_id)
                lengths += tf.cast(tf.logical_not(tf.logical_or(finished, ended)), tf.int32)
                finished = tf.logical_or(finished, ended)
            else:
                lengths += 1
            written = written.write(step, emitted)
            return step + 1, emitted, states, finished, lengths, log_probs, written

        def keep_going(step, previous, states, finished, *rest):
            going = step < steps
            if self.end_id is not None:
                going = tf.logical_and(going, tf.logical_not(tf.reduce_all(finished)))
            return going

        states = self.initial_state(batch_size)
        start = tf.fill([batch_size], self.start_id)
        written = tf.TensorArray(tf.int32, size=steps, element_shape=tf.TensorShape([None]))
        loop_vars = (
            tf.constant(0),
            start,
            states,
            tf.zeros([batch_size], tf.bool),
            tf.zeros([batch_size], tf.int32),
            tf.zeros([batch_size], tf.float32),
            written,
        )
        step, _, _, _, lengths, log_probs, written = tf.while_loop(
            keep_going, body, loop_vars, maximum_iterations=steps
        )

        # Steps skipped after every sequence ended hold padding.
        def pad_rest(index, array):
            return index + 1, array.write(index, tf.fill([batch_size], self.pad_id))

        _, written = tf.while_loop(
            lambda index, _: index < steps, pad_rest, (step, written), maximum_iterations=steps
        )
        tokens = tf.transpose(written.stack())
        return {"tokens": tokens, "lengths": lengths, "log_probs": log_probs}

    def function(self, jit=False, conditioned=False):
        """The compiled loop as a `tf.function`, for SavedModel endpoints.

        It takes `(steps, conditions, prefix, prefix_lengths, temperature,
        top_k, top_p, seed)` (`conditions` only when `conditioned`; the batch
        size is the prefix's first dimension, so pass a `[batch, 1]` prefix
        with zero `prefix_lengths` for no prefix) and returns a dict of `tokens`, `lengths` and
        `log_probs`. With `jit`, XLA compiles it once per number of steps.
        """
        import tensorflow as tf

        key = (bool(jit), bool(conditioned))
        if key not in self._functions:
            if conditioned:

                def run(steps, conditions, prefix, prefix_lengths, temperature, top_k, top_p, seed):
                    return self.loop(
                        steps, conditions, prefix, prefix_lengths, temperature, top_k, top_p, seed
                    )

            else:

                def run(steps, prefix, prefix_lengths, temperature, top_k, top_p, seed):
                    return self.loop(
                        steps, None, prefix, prefix_lengths, temperature, top_k, top_p, seed
                    )

            self._functions[key] = tf.function(run, jit_compile=bool(jit), reduce_retracing=True)
        return self._functions[key]

    def generate(
        self,
        batch_size,
        steps,
        conditions=None,
        prefix=None,
        prefix_lengths=None,
        temperature=1.0,
        top_k=0,
        top_p=1.0,
        seed=0,
        jit=False,
    ):
        """Generate `batch_size` sequences of up to `steps` tokens.

        Args:
            batch_size: Number of sequences.
            steps: Maximum tokens per sequence (prefix included).
            conditions: Optional float `[batch, C_steps, C]` (or `[C_steps, C]`
                for every sequence): the condition of step `t` is row
                `t % C_steps`.
            prefix: Optional int `[batch, P]` (or `[P]` for every sequence):
                tokens forced at the first steps.
            prefix_lengths: int `[batch]`: how much of each prefix row to force
                (default: all of it).
            temperature: Softmax temperature; 0 means greedy (see the class
                docstring for greedy with `tempered_ids`).
            top_k: Sample among the `top_k` most likely tokens (0: all).
            top_p: Sample among the most likely tokens whose probabilities
                sum to `top_p` (1: all).
            seed: Integer seed; the same seed gives the same sequences.
            jit: Compile the loop with XLA (faster at small batches; compiles
                once per `steps`).

        Returns:
            `Samples`.

        Raises:
            ValueError: A bad temperature, `top_k`, `top_p`, `steps`, or a
                prefix longer than `steps`.
        """
        import tensorflow as tf

        if steps < 1:
            raise ValueError(f"steps must be >= 1; received {steps}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1; received {batch_size}")
        if temperature < 0:
            raise ValueError(f"temperature must be >= 0 (0: greedy); received {temperature}")
        if top_k < 0:
            raise ValueError(f"top_k must be >= 0 (0: no limit); received {top_k}")
        if not 0.0 < top_p <= 1.0:
            raise ValueError(f"top_p must be in (0, 1]; received {top_p}")
        if prefix is None:
            prefix = np.zeros((batch_size, 1), "int32")
            prefix_lengths = np.zeros((batch_size,), "int32")
        else:
            prefix = np.asarray(prefix, "int32")
            if prefix.ndim == 1:
                prefix = np.tile(prefix[np.newaxis], (batch_size, 1))
            if prefix.shape[1] == 0:
                prefix = np.zeros((batch_size, 1), "int32")
                prefix_lengths = np.zeros((batch_size,), "int32")
            elif prefix_lengths is None:
                prefix_lengths = np.full((batch_size,), prefix.shape[1], "int32")
        prefix_lengths = np.asarray(prefix_lengths, "int32")
        if prefix.shape[0] != batch_size or prefix_lengths.shape != (batch_size,):
            raise ValueError(
                f"prefix has {prefix.shape[0]} rows and prefix_lengths shape "
                f"{prefix_lengths.shape}; expected {batch_size} of each"
            )
        if prefix_lengths.max(initial=0) > steps:
            raise ValueError(
                f"a prefix of {prefix_lengths.max()} tokens is longer than steps={steps}"
            )
        arguments = [steps if jit else tf.constant(steps, tf.int32)]
        if conditions is not None:
            conditions = np.asarray(conditions, "float32")
            if conditions.ndim == 2:
                conditions = np.tile(conditions[np.newaxis], (batch_size, 1, 1))
            if conditions.ndim != 3 or conditions.shape[0] != batch_size:
                raise ValueError(
                    f"conditions must be [batch, steps, features] with batch {batch_size}; "
                    f"received shape {conditions.shape}"
                )
            if conditions.shape[1] == 0:
                raise ValueError("conditions has no steps")
            arguments.append(tf.constant(conditions))
        arguments += [
            tf.constant(prefix),
            tf.constant(prefix_lengths),
            tf.constant(float(temperature), tf.float32),
            tf.constant(int(top_k), tf.int32),
            tf.constant(float(top_p), tf.float32),
            tf.constant(int(seed), tf.int32),
        ]
        result = self.function(jit, conditions is not None)(*arguments)
        return Samples(
            tokens=result["tokens"].numpy(),
            lengths=result["lengths"].numpy(),
            log_probs=result["log_probs"].numpy(),
        )


class EnsembleSampler(RecurrentSampler):
    """Samples from the average of several models' next-token distributions.

    Each member is a `RecurrentSampler` with its own cells and state; one step runs
    every member and returns `log((1/n) sum_i softmax(logits_i))`, the log of the mean
    probabilities, as the logits. Temperature, `top_k` and `top_p` then apply to that
    mixture, and the log-probabilities the loop sums are the mixture's. `BeamSearch`
    takes it like any sampler.

    Args:
        members: `RecurrentSampler`s with the same start, end and padding tokens and
            the same tempered token group.

    Raises:
        ValueError: No member, or members that disagree on those tokens.
    """

    def __init__(self, members):
        members = list(members)
        if not members:
            raise ValueError("an ensemble needs at least one member")
        first = members[0]
        shared = ("start_id", "end_id", "pad_id", "tempered_ids")
        for member in members[1:]:
            for name in shared:
                if getattr(member, name) != getattr(first, name):
                    raise ValueError(
                        f"ensemble members disagree on {name}: "
                        f"{getattr(first, name)} and {getattr(member, name)}"
                    )
        super().__init__(
            cells=[],
            step_input=None,
            head=None,
            start_id=first.start_id,
            end_id=first.end_id,
            pad_id=first.pad_id,
            tempered_ids=first.tempered_ids,
        )
        self.members = members

    def initial_state(self, batch_size):
        """One list of per-cell states for each member."""
        return [member.initial_state(batch_size) for member in self.members]

    def step(self, tokens, condition, step, states):
        """`(log of the members' mean probabilities, new states)` after `tokens`."""
        import math

        import tensorflow as tf

        log_probs, new_states = [], []
        for member, state in zip(self.members, states):
            logits, state = member.step(tokens, condition, step, state)
            log_probs.append(tf.nn.log_softmax(tf.cast(logits, tf.float32)))
            new_states.append(state)
        mixed = tf.reduce_logsumexp(tf.stack(log_probs), axis=0)
        return mixed - math.log(len(self.members)), new_states


def add_sampling_arguments(group, unit="tokens", temperature=1.0, top_k=0, top_p=1.0):
    """Add `--temperature --top-k --top-p --seed` to a script's argument group.

    Args:
        group: An `ArgumentParser` or argument group.
        unit: What is sampled, for the help texts ("characters", "pitches").
        temperature, top_k, top_p: The script's defaults.
    """
    group.add_argument(
        "--temperature", type=float, default=temperature, help="softmax temperature (0: greedy)"
    )
    group.add_argument(
        "--top-k", type=int, default=top_k, help=f"sample among the k most likely {unit} (0: all)"
    )
    group.add_argument(
        "--top-p",
        type=float,
        default=top_p,
        help=f"sample among the most likely {unit} whose probabilities add up to p (1: all)",
    )
    group.add_argument("--seed", type=int, default=1, help="random seed (same seed, same output)")
    return group


def check_sampling_options(temperature, top_k=0, top_p=1.0):
    """Raise `UserError` naming the flag for a value the sampler refuses."""
    from seqapps.errors import UserError

    if not temperature >= 0:
        raise UserError(f"--temperature must be >= 0 (0: greedy); received {temperature}")
    if top_k < 0:
        raise UserError(f"--top-k must be >= 0 (0: no limit); received {top_k}")
    if not 0.0 < top_p <= 1.0:
        raise UserError(f"--top-p must be in (0, 1]; received {top_p}")
