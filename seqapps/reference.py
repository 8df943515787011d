"""Plain-numpy reference ("oracle") implementations of recurrent layers and their gradients.

This module is deliberately slow and simple: it exists so that the TensorFlow layers in
``seqapps`` can be checked against an independent implementation, and so that readers can
follow every step of the math. Only numpy is used.

Conventions
-----------
Row vectors throughout: ``x_t`` has shape ``(batch, input_dim)`` and every state has shape
``(batch, units)``; ``sigma`` is the logistic sigmoid. Gate weights are fused column-wise,
one block of ``units`` columns per gate, exactly as in the TensorFlow layers:

* Simple RNN, one block: ``a_t = tanh(x_t W + a_{t-1} U + b)``.
* GRU, blocks ``[u, r, c]`` (update gate, relevance gate, candidate)::

      Gu = sigma(x_t W_u + c_{t-1} U_u + b_u)
      Gr = sigma(x_t W_r + c_{t-1} U_r + b_r)
      c~ = tanh(x_t W_c + (Gr * c_{t-1}) U_c + b_c)
      c_t = Gu * c~ + (1 - Gu) * c_{t-1},   a_t = c_t

  With ``relevance_gate=False`` the blocks are ``[u, c]`` and ``Gr == 1``. This course form
  is ``reset_after=False``, the default of the GRU functions here and of ``seqapps.layers.GRU``.
* GRU with ``reset_after=True``: the default ``keras.layers.GRU`` (the form cuDNN runs), with
  Keras's weights exactly. Blocks ``[z, r, h]`` (update gate, reset gate, candidate) and a
  bias of shape ``(2, 3 * units)``: row 0 ``b^x`` is added to the input projection, row 1
  ``b^h`` to the recurrent one (``bias=None`` for ``use_bias=False``)::

      z = sigma(x_t W_z + b^x_z + h_{t-1} U_z + b^h_z)
      r = sigma(x_t W_r + b^x_r + h_{t-1} U_r + b^h_r)
      q = h_{t-1} U_h + b^h_h
      h~ = tanh(x_t W_h + b^x_h + r * q)
      h_t = z * h_{t-1} + (1 - z) * h~,   a_t = h_t

  The reset gate scales the recurrent projection ``q`` *after* the matmul (the course form
  gates ``c_{t-1}`` before it), which is why that block has a bias of its own. ``z`` keeps
  the old state where the course form's ``Gu`` lets the candidate in: ``z`` plays ``1 - Gu``.
* LSTM, blocks ``[u, f, c, o]`` (update/input gate, forget gate, candidate, output gate);
  each gate is ``sigma(x_t W_k + a_{t-1} U_k + b_k)`` and ``c~`` uses ``tanh``::

      c_t = Gu * c~ + Gf * c_{t-1},   a_t = Go * tanh(c_t)

Backpropagation through time (BPTT)
-----------------------------------
Unrolled over ``T`` steps, a recurrent layer is an ordinary feed-forward network of depth
``T`` whose layers all share the same weights. Its gradient is the chain rule applied step
by step, walking backwards from ``t = T`` to ``t = 1``:

1. The gradient arriving at the state(s) of step ``t`` is the sum of the loss's direct
   dependence on that step's output (``d_outputs[:, t]``) and the gradient that step
   ``t + 1`` sends back through its use of the previous state (for ``t = T`` the latter
   is ``d_final_states``, the loss's dependence on the returned final states).
2. The cell's local backward pass turns this into gradients for its inputs: ``x_t``, the
   previous state(s) and the weights.
3. Since the weights are shared by every step, their gradients are *summed* over time; the
   previous-state gradients become the arriving gradients of step ``t - 1``.

What is left after step 1 is the gradient of the initial state(s). Each ``*_cell_backward``
function implements step 2 and ``_bptt`` implements the loop. ``numerical_gradient``
gives the central-difference estimate used to check the analytic gradients.

Useful local derivatives: ``tanh'(z) = 1 - tanh(z)^2`` and
``sigma'(z) = sigma(z) (1 - sigma(z))``, both expressed through the forward outputs, which
is why the caches keep activations rather than pre-activations. For ``z = x W + h U + b``
with upstream ``dz``: ``dx = dz W^T``, ``dh = dz U^T``, ``dW = x^T dz``, ``dU = h^T dz``,
``db = sum_batch dz``.

Local derivatives of the reset-after GRU step, from the upstream ``dh_t``; ``p_z``, ``p_r``
and ``p_h`` are the pre-activations of ``z``, ``r`` and ``h~``::

      dh~ = dh_t * (1 - z),   dz = dh_t * (h_{t-1} - h~),   dh_{t-1} = dh_t * z  (direct)
      dp_h = dh~ * (1 - h~^2),   dr = dp_h * q,   dq = dp_h * r
      dp_z = dz * z * (1 - z),   dp_r = dr * r * (1 - r)

The input projection ``x_t W + b^x`` receives ``[dp_z, dp_r, dp_h]`` (giving ``dx_t``,
``dW`` and ``db^x``); the recurrent one ``h_{t-1} U + b^h`` receives ``[dp_z, dp_r, dq]``
(giving the rest of ``dh_{t-1}``, ``dU`` and ``db^h``). The two differ only in the
candidate block, where ``r`` sits between the recurrent projection and the ``tanh``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

WEIGHT_KEYS = ("kernel", "recurrent_kernel", "bias")


# ----------------------------------------------------------------------------- helpers


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Logistic sigmoid ``1 / (1 + exp(-z))``.

    Computed as ``0.5 * (1 + tanh(z / 2))``: the same function, but it cannot overflow for
    large negative ``z``.
    """
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _check_shape(name: str, array, expected: tuple[int, ...]) -> None:
    """Raises ValueError naming the expected and received shapes if they differ."""
    if np.shape(array) != tuple(expected):
        raise ValueError(f"{name}: expected shape {tuple(expected)}, received {np.shape(array)}")


def _check_weights(
    input_dim: int, kernel, recurrent_kernel, bias, blocks: int, split_bias: bool = False
) -> int:
    """Validates fused weights made of ``blocks`` column blocks; returns ``units``.

    With ``split_bias`` the bias is ``(2, blocks * units)`` (input and recurrent rows, as in
    the reset-after GRU) or None (no bias); otherwise it is ``(blocks * units,)``.
    """
    if np.ndim(recurrent_kernel) != 2:
        raise ValueError(
            f"recurrent_kernel: expected shape (units, {blocks} * units), "
            f"received {np.shape(recurrent_kernel)}"
        )
    units = np.shape(recurrent_kernel)[0]
    _check_shape("recurrent_kernel", recurrent_kernel, (units, blocks * units))
    _check_shape("kernel", kernel, (input_dim, blocks * units))
    if not split_bias:
        _check_shape("bias", bias, (blocks * units,))
    elif bias is not None:
        _check_shape("bias", bias, (2, blocks * units))
    return units


def _check_step(
    x_t, states: dict, kernel, recurrent_kernel, bias, blocks: int, split_bias: bool = False
) -> int:
    """Validates the inputs of one cell step; returns ``units``."""
    if np.ndim(x_t) != 2:
        raise ValueError(f"x_t: expected shape (batch, input_dim), received {np.shape(x_t)}")
    units = _check_weights(np.shape(x_t)[1], kernel, recurrent_kernel, bias, blocks, split_bias)
    for name, state in states.items():
        _check_shape(name, state, (np.shape(x_t)[0], units))
    return units


def _prepare_sequence(
    x, initial_states, kernel, recurrent_kernel, bias, blocks, names, split_bias=False
):
    """Validates a sequence call and replaces missing initial states by zeros.

    Returns:
        ``(x, states, units)`` with ``states`` a list of ``(batch, units)`` arrays.
    """
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValueError(f"x: expected shape (batch, time, input_dim), received {x.shape}")
    batch, _, input_dim = x.shape
    units = _check_weights(input_dim, kernel, recurrent_kernel, bias, blocks, split_bias)
    if initial_states is None:
        initial_states = [None] * len(names)
    if len(initial_states) != len(names):
        raise ValueError(f"initial_state: expected {len(names)} arrays, got {len(initial_states)}")
    states = []
    for name, state in zip(names, initial_states):
        if state is None:
            state = np.zeros((batch, units), dtype=x.dtype)
        _check_shape(name, state, (batch, units))
        states.append(np.asarray(state))
    return x, states, units


def _unroll(x, states, step: Callable, weights: tuple) -> tuple:
    """Runs ``step(x_t, states) -> (new_states, cache_t)`` over time.

    The output of step ``t`` is its first state (``a_t`` for every layer here).

    Returns:
        ``(outputs, final_states, cache)`` in the form the ``*_forward`` functions return.
    """
    batch, time, _ = x.shape
    units = states[0].shape[1]
    outputs = np.zeros((batch, time, units), dtype=np.result_type(x, weights[0]))
    steps = []
    for t in range(time):
        states, cache_t = step(x[:, t], states)
        outputs[:, t] = states[0]
        steps.append(cache_t)
    cache = {"steps": steps, "outputs_shape": outputs.shape, "weights": weights, "x": x}
    return outputs, list(states), cache


def _bptt(d_outputs, d_final_states, cache, step_backward: Callable, n_states: int) -> dict:
    """Backpropagation through time, shared by all layers (see the module docstring).

    Args:
        d_outputs: ``dL/d outputs``, ``(batch, time, units)``; output ``t`` is state 0.
        d_final_states: List of ``dL/d final_state_i``, or None for zeros.
        cache: The sequence cache built by ``_unroll``.
        step_backward: ``(d_states, cache_t) -> (grads, d_prev_states)`` for one step, where
            ``grads`` holds ``"x"`` and the weight gradients.
        n_states: Number of recurrent states.

    Returns:
        Dict with ``"x"``, ``"initial_state"`` (a list, one per state) and weight gradients
        (None for a weight that is None, i.e. an absent bias).
    """
    _check_shape("d_outputs", d_outputs, cache["outputs_shape"])
    batch, time, units = cache["outputs_shape"]
    weights = cache["weights"]
    dtype = np.result_type(d_outputs, weights[0])
    if d_final_states is None:
        d_final_states = [None] * n_states
    if len(d_final_states) != n_states:
        raise ValueError(f"d_final_states: expected {n_states} arrays, got {len(d_final_states)}")
    d_states = []
    for d in d_final_states:
        if d is None:
            d = np.zeros((batch, units), dtype)
        _check_shape("d_final_states", d, (batch, units))
        d_states.append(np.asarray(d, dtype))

    d_x = np.zeros(cache["x"].shape, dtype)
    totals = {
        key: None if w is None else np.zeros(np.shape(w), dtype)
        for key, w in zip(WEIGHT_KEYS, weights)
    }
    for t in reversed(range(time)):
        # Step 1: the output at t is state 0, so its loss gradient joins the carried one.
        d_states[0] = d_states[0] + d_outputs[:, t]
        grads, d_states = step_backward(d_states, cache["steps"][t])  # step 2
        d_x[:, t] = grads["x"]
        for key in WEIGHT_KEYS:  # step 3: shared weights collect gradient from every step
            if totals[key] is not None:
                totals[key] += grads[key]
    return {"x": d_x, "initial_state": list(d_states), **totals}


def _affine_grads(x_t, dz, kernel) -> dict:
    """Input, kernel and bias gradients of ``z = x_t W + (recurrent part) + b``."""
    return {"x": dz @ kernel.T, "kernel": x_t.T @ dz, "bias": dz.sum(axis=0)}


# -------------------------------------------------------------------------- simple RNN


def simple_rnn_cell_forward(x_t, a_prev, kernel, recurrent_kernel, bias):
    """One simple-RNN step: ``a_t = tanh(x_t W + a_prev U + b)``.

    Args:
        x_t: Input, ``(batch, input_dim)``.
        a_prev: Previous state, ``(batch, units)``.
        kernel: ``W``, ``(input_dim, units)``.
        recurrent_kernel: ``U``, ``(units, units)``.
        bias: ``b``, ``(units,)``.

    Returns:
        ``(a_t, cache_t)``; ``cache_t`` is what ``simple_rnn_cell_backward`` needs.
    """
    _check_step(x_t, {"a_prev": a_prev}, kernel, recurrent_kernel, bias, blocks=1)
    a_t = np.tanh(x_t @ kernel + a_prev @ recurrent_kernel + bias)
    return a_t, {"x_t": x_t, "a_prev": a_prev, "a_t": a_t, "weights": (kernel, recurrent_kernel)}


def simple_rnn_cell_backward(d_a_t, cache_t):
    """Backward pass of one simple-RNN step.

    Args:
        d_a_t: Total ``dL/da_t``, ``(batch, units)``.
        cache_t: Cache from ``simple_rnn_cell_forward``.

    Returns:
        Dict with ``"x"``, ``"a_prev"``, ``"kernel"``, ``"recurrent_kernel"``, ``"bias"``.
    """
    kernel, recurrent_kernel = cache_t["weights"]
    dz = d_a_t * (1.0 - cache_t["a_t"] ** 2)  # through tanh
    grads = _affine_grads(cache_t["x_t"], dz, kernel)
    grads["recurrent_kernel"] = cache_t["a_prev"].T @ dz
    grads["a_prev"] = dz @ recurrent_kernel.T
    return grads


def simple_rnn_forward(x, initial_state, kernel, recurrent_kernel, bias):
    """Runs a simple RNN over a sequence.

    Args:
        x: Inputs, ``(batch, time, input_dim)``.
        initial_state: ``a_0``, ``(batch, units)``, or None for zeros.
        kernel: ``(input_dim, units)``.
        recurrent_kernel: ``(units, units)``.
        bias: ``(units,)``.

    Returns:
        ``(outputs, final_states, cache)``: ``outputs`` ``(batch, time, units)`` holds every
        ``a_t``, ``final_states`` is ``[a_T]`` and ``cache`` is for ``simple_rnn_backward``.
    """
    x, states, _ = _prepare_sequence(
        x, [initial_state], kernel, recurrent_kernel, bias, 1, ["initial_state"]
    )

    def step(x_t, states):
        a_t, cache_t = simple_rnn_cell_forward(x_t, states[0], kernel, recurrent_kernel, bias)
        return [a_t], cache_t

    return _unroll(x, states, step, (kernel, recurrent_kernel, bias))


def simple_rnn_backward(d_outputs, d_final_states, cache):
    """BPTT for ``simple_rnn_forward``.

    Args:
        d_outputs: ``dL/d outputs``, ``(batch, time, units)`` (may be zeros).
        d_final_states: ``[dL/da_T]``, or None for zeros.
        cache: Cache from ``simple_rnn_forward``.

    Returns:
        Dict with ``"x"``, ``"initial_state"`` (one array) and the three weight gradients.
    """

    def step_backward(d_states, cache_t):
        grads = simple_rnn_cell_backward(d_states[0], cache_t)
        return grads, [grads["a_prev"]]

    grads = _bptt(d_outputs, d_final_states, cache, step_backward, n_states=1)
    grads["initial_state"] = grads["initial_state"][0]
    return grads


# --------------------------------------------------------------------------------- GRU


def _check_gru_form(relevance_gate: bool, reset_after: bool) -> None:
    """Raises ValueError for ``reset_after=True`` without the relevance (reset) gate."""
    if reset_after and not relevance_gate:
        raise ValueError(
            "reset_after=True is Keras's GRU, which always has its reset gate; "
            "relevance_gate=False exists only in the course form (reset_after=False)"
        )


def gru_cell_forward(
    x_t, c_prev, kernel, recurrent_kernel, bias, relevance_gate=True, reset_after=False
):
    """One GRU step, in the course form or the reset-after form (see the module docstring).

    Args:
        x_t: Input, ``(batch, input_dim)``.
        c_prev: Previous state, ``(batch, units)``: the memory cell ``c_{t-1}`` (course
            form) or ``h_{t-1}`` (reset-after form).
        kernel: ``(input_dim, 3 * units)`` in block order ``[u, r, c]``, or
            ``(input_dim, 2 * units)`` in order ``[u, c]`` without the relevance gate; with
            ``reset_after`` ``[W_z | W_r | W_h]``.
        recurrent_kernel: ``(units, 3 * units)`` or ``(units, 2 * units)``, same blocks.
        bias: ``(3 * units,)`` or ``(2 * units,)``; with ``reset_after`` ``(2, 3 * units)``
            (row 0 input bias, row 1 recurrent bias) or None for no bias.
        relevance_gate: Whether the relevance gate ``Gr`` exists (otherwise ``Gr == 1``);
            must be True with ``reset_after``.
        reset_after: False for the course form, True for Keras's default GRU.

    Returns:
        ``(c_t, cache_t)``; ``c_t`` (``h_t`` in the reset-after form) is also the output
        ``a_t``.
    """
    _check_gru_form(relevance_gate, reset_after)
    if reset_after:
        return _gru_reset_after_cell_forward(x_t, c_prev, kernel, recurrent_kernel, bias)
    n_gates = 2 if relevance_gate else 1  # sigmoid blocks that precede the candidate block
    units = _check_step(x_t, {"c_prev": c_prev}, kernel, recurrent_kernel, bias, n_gates + 1)
    g = n_gates * units  # column where the candidate block starts
    x_part = x_t @ kernel + bias
    gates = sigmoid(x_part[:, :g] + c_prev @ recurrent_kernel[:, :g])
    g_u = gates[:, :units]
    g_r = gates[:, units:] if relevance_gate else np.ones_like(c_prev)
    reset_c = g_r * c_prev  # the only part of c_prev the candidate gets to see
    candidate = np.tanh(x_part[:, g:] + reset_c @ recurrent_kernel[:, g:])
    c_t = g_u * candidate + (1.0 - g_u) * c_prev
    cache_t = {"x_t": x_t, "c_prev": c_prev, "relevance_gate": relevance_gate}
    cache_t.update(gates=gates, g_u=g_u, g_r=g_r, reset_c=reset_c, candidate=candidate)
    cache_t.update(weights=(kernel, recurrent_kernel), reset_after=False)
    return c_t, cache_t


def _gru_reset_after_cell_forward(x_t, h_prev, kernel, recurrent_kernel, bias):
    """One reset-after GRU step; arguments as in ``gru_cell_forward(reset_after=True)``."""
    _check_step(x_t, {"c_prev": h_prev}, kernel, recurrent_kernel, bias, 3, split_bias=True)
    x_part = x_t @ kernel  # x_t W + b^x, blocks [z, r, h]
    h_part = h_prev @ recurrent_kernel  # h_{t-1} U + b^h, same blocks
    if bias is not None:
        x_part = x_part + bias[0]
        h_part = h_part + bias[1]
    x_z, x_r, x_h = np.split(x_part, 3, axis=1)
    h_z, h_r, q = np.split(h_part, 3, axis=1)
    z, r = sigmoid(x_z + h_z), sigmoid(x_r + h_r)
    candidate = np.tanh(x_h + r * q)  # r gates the recurrent projection q, bias included
    h_t = z * h_prev + (1.0 - z) * candidate
    cache_t = {"x_t": x_t, "h_prev": h_prev, "z": z, "r": r, "q": q, "candidate": candidate}
    cache_t.update(weights=(kernel, recurrent_kernel), has_bias=bias is not None)
    cache_t["reset_after"] = True
    return h_t, cache_t


def gru_cell_backward(d_c_t, cache_t):
    """Backward pass of one GRU step (either form; the cache remembers which).

    Args:
        d_c_t: Total ``dL/dc_t`` (``dL/dh_t`` in the reset-after form), ``(batch, units)``.
        cache_t: Cache from ``gru_cell_forward``.

    Returns:
        Dict with ``"x"``, ``"c_prev"``, ``"kernel"``, ``"recurrent_kernel"``, ``"bias"``
        (None in the reset-after form without a bias).
    """
    if cache_t["reset_after"]:
        return _gru_reset_after_cell_backward(d_c_t, cache_t)
    kernel, recurrent_kernel = cache_t["weights"]
    c_prev, g_u, g_r = cache_t["c_prev"], cache_t["g_u"], cache_t["g_r"]
    candidate, gates = cache_t["candidate"], cache_t["gates"]
    g = gates.shape[1]
    # c_t = Gu * c~ + (1 - Gu) * c_prev is linear in c~, Gu and (directly) c_prev.
    d_candidate = d_c_t * g_u
    d_g_u = d_c_t * (candidate - c_prev)
    d_c_prev = d_c_t * (1.0 - g_u)
    dz_c = d_candidate * (1.0 - candidate**2)  # through tanh
    # c_prev reaches the candidate only through Gr * c_prev.
    d_reset_c = dz_c @ recurrent_kernel[:, g:].T
    d_c_prev += d_reset_c * g_r
    d_gates = d_g_u
    if cache_t["relevance_gate"]:
        d_gates = np.concatenate([d_g_u, d_reset_c * c_prev], axis=1)
    dz_gates = d_gates * gates * (1.0 - gates)  # through sigmoid
    d_c_prev += dz_gates @ recurrent_kernel[:, :g].T  # and through the gates themselves

    grads = _affine_grads(cache_t["x_t"], np.concatenate([dz_gates, dz_c], axis=1), kernel)
    # The gate blocks multiply c_prev; the candidate block multiplies Gr * c_prev.
    grads["recurrent_kernel"] = np.concatenate(
        [c_prev.T @ dz_gates, cache_t["reset_c"].T @ dz_c], axis=1
    )
    grads["c_prev"] = d_c_prev
    return grads


def _gru_reset_after_cell_backward(d_h_t, cache_t):
    """Backward pass of one reset-after GRU step (local derivatives in the module docstring)."""
    kernel, recurrent_kernel = cache_t["weights"]
    h_prev, z, r, q = cache_t["h_prev"], cache_t["z"], cache_t["r"], cache_t["q"]
    candidate = cache_t["candidate"]
    # h_t = z * h_prev + (1 - z) * h~ is linear in h~, z and (directly) h_prev.
    d_candidate = d_h_t * (1.0 - z)
    d_z = d_h_t * (h_prev - candidate)
    d_h_prev = d_h_t * z
    dp_h = d_candidate * (1.0 - candidate**2)  # through tanh
    dp_z = d_z * z * (1.0 - z)  # through sigmoid
    dp_r = dp_h * q * r * (1.0 - r)  # h~ sees r * q; then through sigmoid
    # The input projection feeds the candidate directly; the recurrent one through r * q.
    d_x_part = np.concatenate([dp_z, dp_r, dp_h], axis=1)
    d_h_part = np.concatenate([dp_z, dp_r, dp_h * r], axis=1)
    grads = _affine_grads(cache_t["x_t"], d_x_part, kernel)
    grads["recurrent_kernel"] = h_prev.T @ d_h_part
    grads["bias"] = np.stack([grads["bias"], d_h_part.sum(axis=0)])
    if not cache_t["has_bias"]:
        grads["bias"] = None
    grads["c_prev"] = d_h_prev + d_h_part @ recurrent_kernel.T
    return grads


def gru_forward(
    x, initial_state, kernel, recurrent_kernel, bias, relevance_gate=True, reset_after=False
):
    """Runs a GRU over a sequence.

    Args:
        x: Inputs, ``(batch, time, input_dim)``.
        initial_state: ``c_0`` (``h_0``), ``(batch, units)``, or None for zeros.
        kernel: ``(input_dim, 3 * units)`` (or ``2 * units`` without the relevance gate).
        recurrent_kernel: ``(units, 3 * units)`` (or ``2 * units``).
        bias: ``(3 * units,)`` (or ``2 * units``); with ``reset_after`` ``(2, 3 * units)``
            or None for no bias.
        relevance_gate: Full GRU if True, simplified GRU (``Gr == 1``) if False; must be
            True with ``reset_after``.
        reset_after: Course form if False; Keras's default GRU (``keras.layers.GRU()``,
            ``seqapps.layers.GRU(units, reset_after=True)``) if True.

    Returns:
        ``(outputs, final_states, cache)`` with ``final_states == [c_T]`` (``[h_T]``).
    """
    _check_gru_form(relevance_gate, reset_after)
    blocks = 3 if relevance_gate else 2
    x, states, _ = _prepare_sequence(
        x, [initial_state], kernel, recurrent_kernel, bias, blocks, ["initial_state"], reset_after
    )

    def step(x_t, states):
        c_t, cache_t = gru_cell_forward(
            x_t, states[0], kernel, recurrent_kernel, bias, relevance_gate, reset_after
        )
        return [c_t], cache_t

    outputs, final_states, cache = _unroll(x, states, step, (kernel, recurrent_kernel, bias))
    cache.update(relevance_gate=relevance_gate, reset_after=reset_after)
    return outputs, final_states, cache


def gru_backward(d_outputs, d_final_states, cache):
    """BPTT for ``gru_forward`` (any form; the cache remembers which).

    Arguments and result as in ``simple_rnn_backward``, with ``d_final_states = [dL/dc_T]``;
    in the reset-after form without a bias, ``"bias"`` is None.
    """

    def step_backward(d_states, cache_t):
        grads = gru_cell_backward(d_states[0], cache_t)
        return grads, [grads["c_prev"]]

    grads = _bptt(d_outputs, d_final_states, cache, step_backward, n_states=1)
    grads["initial_state"] = grads["initial_state"][0]
    return grads


# -------------------------------------------------------------------------------- LSTM


def lstm_cell_forward(x_t, a_prev, c_prev, kernel, recurrent_kernel, bias):
    """One LSTM step (see the module docstring for the equations).

    Args:
        x_t: Input, ``(batch, input_dim)``.
        a_prev: Previous hidden state, ``(batch, units)``.
        c_prev: Previous memory cell, ``(batch, units)``.
        kernel: ``(input_dim, 4 * units)`` in block order ``[u, f, c, o]``.
        recurrent_kernel: ``(units, 4 * units)``, same blocks.
        bias: ``(4 * units,)``.

    Returns:
        ``(a_t, c_t, cache_t)``.
    """
    states = {"a_prev": a_prev, "c_prev": c_prev}
    _check_step(x_t, states, kernel, recurrent_kernel, bias, blocks=4)
    z_u, z_f, z_c, z_o = np.split(x_t @ kernel + a_prev @ recurrent_kernel + bias, 4, axis=1)
    g_u, g_f, candidate, g_o = sigmoid(z_u), sigmoid(z_f), np.tanh(z_c), sigmoid(z_o)
    c_t = g_u * candidate + g_f * c_prev
    tanh_c = np.tanh(c_t)
    a_t = g_o * tanh_c
    cache_t = {"x_t": x_t, "a_prev": a_prev, "c_prev": c_prev, "tanh_c": tanh_c}
    cache_t.update(g_u=g_u, g_f=g_f, candidate=candidate, g_o=g_o)
    cache_t["weights"] = (kernel, recurrent_kernel)
    return a_t, c_t, cache_t


def lstm_cell_backward(d_a_t, d_c_t, cache_t):
    """Backward pass of one LSTM step.

    Args:
        d_a_t: Total ``dL/da_t``, ``(batch, units)``.
        d_c_t: ``dL/dc_t`` arriving from later steps only, ``(batch, units)``; the part that
            flows through ``a_t = Go * tanh(c_t)`` is added here.
        cache_t: Cache from ``lstm_cell_forward``.

    Returns:
        Dict with ``"x"``, ``"a_prev"``, ``"c_prev"``, ``"kernel"``, ``"recurrent_kernel"``,
        ``"bias"``.
    """
    kernel, recurrent_kernel = cache_t["weights"]
    g_u, g_f, g_o = cache_t["g_u"], cache_t["g_f"], cache_t["g_o"]
    candidate, tanh_c = cache_t["candidate"], cache_t["tanh_c"]
    d_g_o = d_a_t * tanh_c
    d_c = d_c_t + d_a_t * g_o * (1.0 - tanh_c**2)  # c_t feeds both c_{t+1} and a_t
    dz = np.concatenate(
        [
            d_c * candidate * g_u * (1.0 - g_u),  # update gate, through sigmoid
            d_c * cache_t["c_prev"] * g_f * (1.0 - g_f),  # forget gate, through sigmoid
            d_c * g_u * (1.0 - candidate**2),  # candidate, through tanh
            d_g_o * g_o * (1.0 - g_o),  # output gate, through sigmoid
        ],
        axis=1,
    )
    grads = _affine_grads(cache_t["x_t"], dz, kernel)
    grads["recurrent_kernel"] = cache_t["a_prev"].T @ dz
    grads["a_prev"] = dz @ recurrent_kernel.T
    grads["c_prev"] = d_c * g_f  # the "constant error carousel": scaled only by Gf
    return grads


def lstm_forward(x, initial_state, kernel, recurrent_kernel, bias):
    """Runs an LSTM over a sequence.

    Args:
        x: Inputs, ``(batch, time, input_dim)``.
        initial_state: ``[a_0, c_0]``, each ``(batch, units)`` or None; or None for zeros.
        kernel: ``(input_dim, 4 * units)``.
        recurrent_kernel: ``(units, 4 * units)``.
        bias: ``(4 * units,)``.

    Returns:
        ``(outputs, final_states, cache)`` with ``outputs`` holding every ``a_t`` and
        ``final_states == [a_T, c_T]``.
    """
    names = ["initial_state[0] (a_0)", "initial_state[1] (c_0)"]
    x, states, _ = _prepare_sequence(x, initial_state, kernel, recurrent_kernel, bias, 4, names)

    def step(x_t, states):
        a_t, c_t, cache_t = lstm_cell_forward(x_t, *states, kernel, recurrent_kernel, bias)
        return [a_t, c_t], cache_t

    return _unroll(x, states, step, (kernel, recurrent_kernel, bias))


def lstm_backward(d_outputs, d_final_states, cache):
    """BPTT for ``lstm_forward``.

    Arguments and result as in ``simple_rnn_backward``, except that ``d_final_states`` is
    ``[dL/da_T, dL/dc_T]`` (or None) and ``"initial_state"`` is the list ``[d_a0, d_c0]``.
    """

    def step_backward(d_states, cache_t):
        grads = lstm_cell_backward(d_states[0], d_states[1], cache_t)
        return grads, [grads["a_prev"], grads["c_prev"]]

    return _bptt(d_outputs, d_final_states, cache, step_backward, n_states=2)


# ------------------------------------------------------------------- gradient checking


def numerical_gradient(f: Callable[[], float], array: np.ndarray, eps: float = 1e-6):
    """Central-difference estimate of ``d f() / d array``.

    Each element is nudged by ``+eps`` and ``-eps`` in place (``f`` must read ``array``) and
    restored afterwards; the error of the estimate is ``O(eps^2)``, so use float64.

    Args:
        f: Zero-argument function returning a scalar loss.
        array: The array to differentiate with respect to; modified in place, then restored.
        eps: Step size.

    Returns:
        Array of the same shape as ``array`` with the estimated partial derivatives.
    """
    grad = np.zeros(array.shape, dtype=np.float64)
    for index in np.ndindex(array.shape):
        original = array[index]
        try:
            array[index] = original + eps
            f_plus = float(f())
            array[index] = original - eps
            f_minus = float(f())
        finally:
            array[index] = original
        grad[index] = (f_plus - f_minus) / (2.0 * eps)
    return grad
