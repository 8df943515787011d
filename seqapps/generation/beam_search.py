"""Beam search over a `RecurrentSampler`'s step, in one compiled loop.

`BeamSearch` keeps the `beam_width` most likely partial sequences. Each step
runs the sampler's `step` (step input -> cells -> head) on all of them as one
batch, extends every sequence by every token, and keeps the `beam_width` best
extensions by total log-probability. A sequence that has emitted the end
token stays in the beam with its score unchanged (it can only be followed by
padding) and competes with the growing ones; the loop stops when every kept
sequence has ended or after `steps` tokens. With `beam_width=1` this is
greedy decoding: it returns exactly what the sampler gives at temperature 0.

Example:
    >>> search = BeamSearch(sampler)  # a seqapps.generation.sampler.RecurrentSampler
    >>> beams = search.search(beam_width=5, steps=30, prefix=[7, 12])
    >>> beams.tokens.shape  # best first; beams.log_probs holds their scores
    (5, 30)
"""

import dataclasses

import numpy as np


@dataclasses.dataclass
class Beams:
    """What `BeamSearch.search` returns, best sequence first.

    Attributes:
        tokens: int32 `[beams, steps]`: the prefix, the chosen tokens, then
            `pad_id` after the end token.
        lengths: int32 `[beams]`: tokens before the end token (all steps if
            none was emitted).
        log_probs: float32 `[beams]`: sum of the log-probabilities of every
            token, prefix and end token included.
    """

    tokens: np.ndarray
    lengths: np.ndarray
    log_probs: np.ndarray


class BeamSearch:
    """Beam search with the step, start, end and padding tokens of a `RecurrentSampler`.

    Args:
        sampler: A `seqapps.generation.sampler.RecurrentSampler`.
    """

    def __init__(self, sampler):
        self.sampler = sampler
        self._functions = {}

    def _loop(self, beam_width, steps, conditions, prefix, prefix_length):
        import tensorflow as tf

        sampler = self.sampler
        beams = beam_width
        steps = tf.cast(steps, tf.int32)
        prefix = tf.cast(prefix, tf.int32)
        prefix_length = tf.cast(prefix_length, tf.int32)
        prefix_width = tf.shape(prefix)[0]
        if conditions is not None:
            conditions = tf.cast(conditions, tf.float32)
            condition_steps = tf.shape(conditions)[0]
        negative_infinity = tf.constant(-np.inf, tf.float32)

        def body(step, previous, states, scores, finished, lengths, sequences):
            condition = None
            if conditions is not None:
                condition = tf.tile(conditions[step % condition_steps][tf.newaxis], [beams, 1])
            logits, states = sampler.step(previous, condition, step, states)
            log_probs = tf.nn.log_softmax(tf.cast(logits, tf.float32))
            vocab = tf.shape(log_probs)[1]
            token_ids = tf.range(vocab)[tf.newaxis, :]
            forced = prefix[tf.minimum(step, prefix_width - 1)]
            log_probs = tf.where(
                tf.logical_and(step < prefix_length, token_ids != forced),
                negative_infinity,
                log_probs,
            )
            # An ended sequence can only be followed by padding, at no cost.
            log_probs = tf.where(
                finished[:, tf.newaxis],
                tf.where(token_ids == sampler.pad_id, 0.0, negative_infinity),
                log_probs,
            )
            candidates = tf.reshape(scores[:, tf.newaxis] + log_probs, [-1])
            scores, chosen = tf.math.top_k(candidates, k=beams)
            parent = chosen // vocab
            token = chosen % vocab
            states = tf.nest.map_structure(lambda s: tf.gather(s, parent), states)
            was_finished = tf.gather(finished, parent)
            lengths = tf.gather(lengths, parent)
            if sampler.end_id is not None:
                ended = tf.logical_and(tf.logical_not(was_finished), token == sampler.end_id)
                finished = tf.logical_or(was_finished, ended)
            else:
                ended = tf.zeros_like(was_finished)
                finished = was_finished
            lengths += tf.cast(tf.logical_not(tf.logical_or(was_finished, ended)), tf.int32)
            sequences = tf.gather(sequences, parent)
            column = tf.range(tf.shape(sequences)[1])[tf.newaxis, :] == step
            sequences = tf.where(column, token[:, tf.newaxis], sequences)
            return step + 1, token, states, scores, finished, lengths, sequences

        def keep_going(step, previous, states, scores, finished, *rest):
            live = tf.logical_and(tf.logical_not(finished), scores > negative_infinity)
            return tf.logical_and(step < steps, tf.reduce_any(live))

        # Only the first beam is live at the start, so no sequence is found twice.
        scores = tf.concat([[0.0], tf.fill([beams - 1], negative_infinity)], axis=0)
        loop_vars = (
            tf.constant(0),
            tf.fill([beams], sampler.start_id),
            sampler.initial_state(beams),
            scores,
            tf.zeros([beams], tf.bool),
            tf.zeros([beams], tf.int32),
            tf.fill([beams, steps], sampler.pad_id),
        )
        _, _, _, scores, _, lengths, sequences = tf.while_loop(
            keep_going, body, loop_vars, maximum_iterations=steps
        )
        return {"tokens": sequences, "lengths": lengths, "log_probs": scores}

    def function(self, beam_width, jit=False, conditioned=False):
        """The compiled search as a `tf.function` of `(steps, [conditions,] prefix, prefix_length)`.

        `prefix` is int32 `[P]` (at least one entry; `prefix_length` says how
        many to force) and `conditions` float `[C_steps, C]`.
        """
        import tensorflow as tf

        key = (int(beam_width), bool(jit), bool(conditioned))
        if key not in self._functions:
            if conditioned:

                def run(steps, conditions, prefix, prefix_length):
                    return self._loop(key[0], steps, conditions, prefix, prefix_length)

            else:

                def run(steps, prefix, prefix_length):
                    return self._loop(key[0], steps, None, prefix, prefix_length)

            self._functions[key] = tf.function(run, jit_compile=bool(jit), reduce_retracing=True)
        return self._functions[key]

    def search(self, beam_width, steps, prefix=None, conditions=None, jit=False):
        """The `beam_width` most likely sequences of up to `steps` tokens.

        Args:
            beam_width: Sequences kept at each step (and returned).
            steps: Maximum tokens per sequence (prefix included).
            prefix: Optional int `[P]`: tokens forced at the first steps.
            conditions: Optional float `[C_steps, C]`: the condition of step
                `t` is row `t % C_steps`.
            jit: Compile the loop with XLA.

        Returns:
            `Beams`, best first; sequences the search could not fill (fewer
            possible sequences than `beam_width`) are left out.

        Raises:
            ValueError: `beam_width` or `steps` below 1, or a prefix longer
                than `steps`.
        """
        import tensorflow as tf

        if beam_width < 1:
            raise ValueError(f"beam_width must be >= 1; received {beam_width}")
        if steps < 1:
            raise ValueError(f"steps must be >= 1; received {steps}")
        prefix = np.zeros((0,), "int32") if prefix is None else np.asarray(prefix, "int32")
        if prefix.ndim != 1:
            raise ValueError(f"prefix must be one sequence [P]; received shape {prefix.shape}")
        if len(prefix) > steps:
            raise ValueError(f"a prefix of {len(prefix)} tokens is longer than steps={steps}")
        prefix_length = len(prefix)
        padded = np.concatenate([prefix, np.zeros((1,), "int32")])
        arguments = [steps if jit else tf.constant(steps, tf.int32)]
        if conditions is not None:
            conditions = np.asarray(conditions, "float32")
            if conditions.ndim != 2 or conditions.shape[0] == 0:
                raise ValueError(
                    f"conditions must be [steps, features]; received shape {conditions.shape}"
                )
            arguments.append(tf.constant(conditions))
        arguments += [tf.constant(padded), tf.constant(prefix_length, tf.int32)]
        result = self.function(beam_width, jit, conditions is not None)(*arguments)
        log_probs = result["log_probs"].numpy()
        keep = np.isfinite(log_probs)
        return Beams(
            tokens=result["tokens"].numpy()[keep],
            lengths=result["lengths"].numpy()[keep],
            log_probs=log_probs[keep],
        )
