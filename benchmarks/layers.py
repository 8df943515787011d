"""Benchmark the seqapps recurrent layers against Keras's and PyTorch's.

Times one training step (forward, MSE loss, backward, Adam update) and one
inference call (forward only) of `seqapps.layers.LSTM`, `GRU` (course form),
`GRU(reset_after=True)` and `Bidirectional(LSTM)` next to `keras.layers.LSTM`,
`keras.layers.GRU(reset_after=False)`, `keras.layers.GRU()` (Keras's default,
reset-after form) and `keras.layers.Bidirectional(keras.layers.LSTM)`, each inside
`tf.function(jit_compile=False)` and `tf.function(jit_compile=True)`, and next to
`torch.nn.LSTM` / `torch.nn.GRU` as a reference peer. One extra row times our
GRU with `relevance_gate=False` (no Keras or PyTorch counterpart).

With `--device gpu` the work runs on `/GPU:0`: LSTM, `GRU(reset_after=True)` and
`Bidirectional(LSTM)` with cuDNN (ours and Keras's with `use_cudnn="auto"`, jit off
only: cuDNN has no XLA kernel), plus the course-form GRU against
`keras.layers.GRU(reset_after=False)` and `SimpleRNN` against
`keras.layers.SimpleRNN`, jit off and on (no cuDNN form exists for them); torch
runs on CUDA when its build has it.

Every variant of a row is built and warmed up first (tracing and XLA
compilation happen there); then each round times each variant for several
individually timed iterations (about 0.25 s), round-robin (the starting variant
rotates from round to round). A round's time is the median of its iterations,
a variant's time the median over rounds, in milliseconds per iteration. The
ratio columns are the median over rounds of the per-round ratio, each side at
its best of jit off/on within the round, so load that comes and goes on a
shared machine cancels out of them.

Run from the repository root:

    python benchmarks/layers.py                 # full run (9 rounds)
    python benchmarks/layers.py --quick         # smoke test, numbers indicative only
    python benchmarks/layers.py --no-torch --markdown
    python benchmarks/layers.py --device gpu --markdown   # on a machine with a GPU
"""

import argparse
import contextlib
import datetime
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from machine import cpu_name  # noqa: E402  (benchmarks/ is the script's folder)

import seqapps.layers  # noqa: E402

# Each variant traces its own tf.function once; TF's "retracing" warning counts them all.
tf.get_logger().setLevel("ERROR")

try:
    import torch
except ImportError:  # torch is a benchmark-only, optional peer
    torch = None

SHAPES = (
    # (batch, steps, features, units)
    (64, 50, 100, 128),
    (32, 100, 90, 64),
)
MODES = ("train", "infer")
COLUMNS = (
    "ours jit off",
    "ours jit on",
    "keras jit off",
    "keras jit on",
    "torch",
    "torch 1 thread",
)
# torch's own default thread count (the "torch" column); on a CPU with more than one
# thread torch is also timed with one ("torch 1 thread"): with its OpenMP threads, one
# iteration can take 10 to 100 times longer while another process holds a core.
TORCH_THREADS = torch.get_num_threads() if torch is not None else None
SEED = 1234


@dataclass
class LayerSpec:
    """One benchmarked layer: how to build ours, Keras's and PyTorch's."""

    name: str
    ours: Callable
    keras: Callable | None = None
    torch: Callable | None = None
    return_sequences: bool = False
    bidirectional: bool = False
    jit_settings: tuple = (False, True)  # jit_compile values timed for ours and Keras's


def _torch_lstm(features, units, bidirectional=False):
    return torch.nn.LSTM(features, units, batch_first=True, bidirectional=bidirectional)


LAYERS = (
    LayerSpec(
        "LSTM",
        ours=lambda units: seqapps.layers.LSTM(units),
        keras=lambda units: keras.layers.LSTM(units),
        torch=lambda features, units: _torch_lstm(features, units),
    ),
    LayerSpec(
        "GRU",
        ours=lambda units: seqapps.layers.GRU(units),
        keras=lambda units: keras.layers.GRU(units, reset_after=False),
        torch=lambda features, units: torch.nn.GRU(features, units, batch_first=True),
    ),
    LayerSpec(
        "GRU(reset_after=True)",
        ours=lambda units: seqapps.layers.GRU(units, reset_after=True),
        keras=lambda units: keras.layers.GRU(units),
        torch=lambda features, units: torch.nn.GRU(features, units, batch_first=True),
    ),
    LayerSpec(
        "BiLSTM (seq)",
        ours=lambda units: seqapps.layers.Bidirectional(
            seqapps.layers.LSTM(units, return_sequences=True)
        ),
        keras=lambda units: keras.layers.Bidirectional(
            keras.layers.LSTM(units, return_sequences=True)
        ),
        torch=lambda features, units: _torch_lstm(features, units, bidirectional=True),
        return_sequences=True,
        bidirectional=True,
    ),
    LayerSpec(
        "GRU relevance_gate=False",
        ours=lambda units: seqapps.layers.GRU(units, relevance_gate=False),
    ),
)


# On a GPU (`--device gpu`): the cuDNN layers with use_cudnn="auto" (Keras's default,
# and ours) and jit off only, since the cuDNN ops have no XLA kernel; the loop-only
# layers (course-form GRU, SimpleRNN) with jit off and on.
_CUDNN_ONLY = (False,)
GPU_LAYERS = (
    LayerSpec(
        "LSTM (cuDNN)",
        ours=lambda units: seqapps.layers.LSTM(units, use_cudnn="auto"),
        keras=lambda units: keras.layers.LSTM(units, use_cudnn="auto"),
        torch=lambda features, units: _torch_lstm(features, units),
        jit_settings=_CUDNN_ONLY,
    ),
    LayerSpec(
        "GRU(reset_after=True) (cuDNN)",
        ours=lambda units: seqapps.layers.GRU(units, reset_after=True, use_cudnn="auto"),
        keras=lambda units: keras.layers.GRU(units, use_cudnn="auto"),
        torch=lambda features, units: torch.nn.GRU(features, units, batch_first=True),
        jit_settings=_CUDNN_ONLY,
    ),
    LayerSpec(
        "BiLSTM (seq) (cuDNN)",
        ours=lambda units: seqapps.layers.Bidirectional(
            seqapps.layers.LSTM(units, return_sequences=True, use_cudnn="auto")
        ),
        keras=lambda units: keras.layers.Bidirectional(
            keras.layers.LSTM(units, return_sequences=True, use_cudnn="auto")
        ),
        torch=lambda features, units: _torch_lstm(features, units, bidirectional=True),
        return_sequences=True,
        bidirectional=True,
        jit_settings=_CUDNN_ONLY,
    ),
    LayerSpec(
        "GRU (course, loop)",
        ours=lambda units: seqapps.layers.GRU(units),
        keras=lambda units: keras.layers.GRU(units, reset_after=False),
    ),
    LayerSpec(
        "SimpleRNN (loop)",
        ours=lambda units: seqapps.layers.SimpleRNN(units),
        keras=lambda units: keras.layers.SimpleRNN(units),
        torch=lambda features, units: torch.nn.RNN(features, units, batch_first=True),
    ),
)


# --------------------------------------------------------------------------- #
# Variants: each is a zero-argument callable that runs one iteration.


def keras_variant(make_layer, x, y, mode, jit):
    """One iteration of a Keras-API layer in `tf.function(jit_compile=jit)`."""
    layer = make_layer()
    layer(x[:1])  # build the weights outside the traced functions
    if mode == "infer":
        forward = tf.function(lambda inputs: layer(inputs, training=False), jit_compile=jit)
        return lambda: forward(x)

    variables = layer.trainable_variables
    optimizer = keras.optimizers.Adam(learning_rate=1e-3)
    optimizer.build(variables)

    @tf.function(jit_compile=jit)
    def train_step(inputs, targets):
        with tf.GradientTape() as tape:
            outputs = layer(inputs, training=True)
            loss = tf.reduce_mean(tf.square(outputs - targets))
        gradients = tape.gradient(loss, variables)
        optimizer.apply(gradients, variables)
        return loss

    return lambda: train_step(x, y)


def _with_threads(run, threads):
    """`run` with torch set to `threads` intra-op threads (None: leave the setting)."""
    if threads is None:
        return run

    def call():
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
        return run()

    return call


def torch_variant(make_module, x, y, mode, return_sequences, threads=None):
    """One iteration of a `torch.nn` recurrent module (eager; `threads`: None leaves
    torch's setting, a number sets it before each call)."""
    module = make_module().to(x.device)
    if mode == "infer":
        module.eval()

        def infer():
            with torch.inference_mode():
                return module(x)

        return _with_threads(infer, threads)

    module.train()
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-3)
    loss_fn = torch.nn.MSELoss()

    def train_step():
        outputs, _ = module(x)
        if not return_sequences:
            outputs = outputs[:, -1]
        loss = loss_fn(outputs, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return loss

    return _with_threads(train_step, threads)


def build_variants(spec, shape, mode, use_torch, torch_device="cpu"):
    """The callables of one row, keyed by column name (missing peers left out)."""
    batch, steps, features, units = shape
    rng = np.random.default_rng(SEED)
    x_np = rng.standard_normal((batch, steps, features), dtype=np.float32)
    out_units = 2 * units if spec.bidirectional else units
    y_shape = (batch, steps, out_units) if spec.return_sequences else (batch, out_units)
    y_np = rng.standard_normal(y_shape, dtype=np.float32)
    x, y = tf.constant(x_np), tf.constant(y_np)

    variants = {}
    for jit in spec.jit_settings:
        suffix = "on" if jit else "off"
        variants[f"ours jit {suffix}"] = keras_variant(lambda: spec.ours(units), x, y, mode, jit)
        if spec.keras is not None:
            variants[f"keras jit {suffix}"] = keras_variant(
                lambda: spec.keras(units), x, y, mode, jit
            )
    if use_torch and spec.torch is not None:
        thread_settings = {"torch": TORCH_THREADS if torch_device == "cpu" else None}
        if torch_device == "cpu" and TORCH_THREADS > 1:
            thread_settings["torch 1 thread"] = 1
        for name, threads in thread_settings.items():
            torch.manual_seed(SEED)
            variants[name] = torch_variant(
                lambda: spec.torch(features, units),
                torch.from_numpy(x_np).to(torch_device),
                torch.from_numpy(y_np).to(torch_device),
                mode,
                spec.return_sequences,
                threads,
            )
    return variants


# --------------------------------------------------------------------------- #
# Timing.


def _sync(result):
    """Wait for the iteration's result (CPU calls of both frameworks already return done)."""
    value = result[0] if isinstance(result, (tuple, list)) else result
    if isinstance(value, tf.Tensor):
        value.numpy()


def _sync_gpu(result):
    """Wait for the GPU to finish the iteration, without copying its outputs to the host."""
    value = result[0] if isinstance(result, (tuple, list)) else result
    if isinstance(value, tf.Tensor):
        tf.test.experimental.sync_devices()
    elif torch is not None and isinstance(value, torch.Tensor) and value.is_cuda:
        torch.cuda.synchronize()


SYNC = {"cpu": _sync, "gpu": _sync_gpu}
sync = _sync  # main() sets the device's


def calibrate(run, warmup, target_s, min_iters):
    """Warm up (trace/compile), then pick iterations so one timing lasts ~target_s."""
    for _ in range(warmup):
        sync(run())
    start = time.perf_counter()
    sync(run())
    once = time.perf_counter() - start
    return max(min_iters, math.ceil(target_s / max(once, 1e-6)))


def time_round(run, iters):
    """One round: the median of `iters` individually timed iterations, in ms.

    On a shared machine a single iteration can be delayed by seconds (torch's
    OpenMP threads suffer most when another process takes a core); the median
    keeps such stalls from deciding the round.
    """
    times = []
    for _ in range(iters):
        start = time.perf_counter()
        sync(run())
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def measure_row(variants, rounds, warmup, target_s, min_iters):
    """Median ms per iteration of each variant, timed round-robin."""
    iters = {name: calibrate(run, warmup, target_s, min_iters) for name, run in variants.items()}
    names = list(variants)
    samples = {name: [] for name in names}
    for index in range(rounds):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            samples[name].append(time_round(variants[name], iters[name]))
    return {name: statistics.median(values) for name, values in samples.items()}, samples


def spread(values):
    """Relative interquartile range of the round timings (0.05 = 5 %)."""
    if len(values) < 4:
        return (max(values) - min(values)) / statistics.median(values)
    q1, _, q3 = statistics.quantiles(values, n=4)
    return (q3 - q1) / statistics.median(values)


# --------------------------------------------------------------------------- #
# Report.


def gpu_names():
    """TensorFlow's GPUs, by name."""
    names = []
    for gpu in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(gpu)
        names.append(details.get("device_name", gpu.name))
    return names


def machine_info(device="cpu", torch_device="cpu"):
    cpu = cpu_name()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    info = {
        "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "cpu": cpu,
        "cores": cores,
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "torch": (
            f"{torch.__version__} ({TORCH_THREADS} threads by default"
            f"{'; also timed with 1' if TORCH_THREADS > 1 else ''})"
            if torch is not None
            else "not importable"
        ),
    }
    if device == "gpu":
        info["device"] = f"/GPU:0 ({', '.join(gpu_names())})"
        if torch_device == "cuda":
            info["torch device"] = f"cuda ({torch.cuda.get_device_name(0)})"
        elif torch is not None:
            info["torch device"] = "this torch build has no CUDA; the torch columns are skipped"
    return info


def _ms(value):
    return "—" if value is None else f"{value:.1f}"


def _ratio(value):
    return "—" if value is None else f"{value:.2f}"


def paired_ratio(samples, numerator, denominator):
    """Median over rounds of min(numerator) / min(denominator) within each round.

    Both sides of a round were timed seconds apart, so the ratio is much less
    sensitive than a ratio of medians to load that comes and goes between rounds.
    Columns a row does not have (jit on for the cuDNN rows) are left out; a side
    with none of its columns gives None.
    """
    numerator = [name for name in numerator if name in samples]
    denominator = [name for name in denominator if name in samples]
    if not numerator or not denominator:
        return None
    ratios = [
        min(samples[name][i] for name in numerator) / min(samples[name][i] for name in denominator)
        for i in range(len(samples[numerator[0]]))
    ]
    return statistics.median(ratios)


def table_rows(results):
    """Formatted cells of the table, one list per (layer, shape, mode) row."""
    rows = []
    for (layer, shape, mode), (medians, samples) in results.items():
        tf_noise = max(spread(samples[c]) for c in COLUMNS[:4] if c in samples)
        torch_columns = [c for c in COLUMNS[4:] if c in samples]
        torch_noise = max((spread(samples[c]) for c in torch_columns), default=None)
        rows.append(
            [
                layer,
                "x".join(map(str, shape)),
                mode,
                *(_ms(medians.get(c)) for c in COLUMNS),
                _ratio(paired_ratio(samples, COLUMNS[:2], COLUMNS[2:4])),
                _ratio(paired_ratio(samples, COLUMNS[:2], COLUMNS[4:])),
                f"{100 * tf_noise:.0f}%",
                "—" if torch_noise is None else f"{100 * torch_noise:.0f}%",
            ]
        )
    return rows


HEADER = [
    "layer",
    "shape BxTxFxU",
    "mode",
    *(f"{c} (ms)" for c in COLUMNS[:4]),
    *(f"{c} (ms)" for c in COLUMNS[4:]),
    "ours/keras (best)",
    "ours/torch (best)",
    "spread tf",
    "spread torch",
]


def format_table(rows, markdown):
    if markdown:
        lines = ["| " + " | ".join(HEADER) + " |"]
        lines.append("|" + "|".join("---" if i < 3 else "---:" for i in range(len(HEADER))) + "|")
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(str(r[i])) for r in [HEADER, *rows]) for i in range(len(HEADER))]
    lines = []
    for n, row in enumerate([HEADER, *rows]):
        cells = [
            str(cell).ljust(w) if i < 3 else str(cell).rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths))
        ]
        lines.append("  ".join(cells))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=(
            "Time a training step and inference of seqapps.layers LSTM, GRU and "
            "Bidirectional(LSTM) against keras.layers (XLA jit off and on) and torch.nn."
        ),
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=None,
        help="timing rounds per row; the table shows the median (default 9, or 3 with "
        "--quick; use at least 5 for numbers you report)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke test, about a minute: the first shape only, 3 rounds (unless --rounds "
        "is given), ~0.05 s timings and a short warm-up; numbers are indicative only",
    )
    parser.add_argument(
        "--no-torch",
        action="store_true",
        help="skip the torch.nn reference columns (also skipped when torch is not importable)",
    )
    parser.add_argument(
        "--device",
        choices=("cpu", "gpu"),
        default="cpu",
        help="cpu (default): the CPU rows; gpu: run on /GPU:0, the cuDNN layers (jit off) "
        "and the loop-only course GRU and SimpleRNN (jit off and on); fails if no GPU is visible",
    )
    parser.add_argument(
        "--only",
        metavar="TEXT",
        default=None,
        help="time only the layers whose name contains TEXT (case-insensitive)",
    )
    parser.add_argument(
        "--markdown", action="store_true", help="print the table as Markdown (for the README)"
    )
    args = parser.parse_args(argv)
    if args.rounds is None:
        args.rounds = 3 if args.quick else 9
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    return args


def main(argv=None):
    global sync
    args = parse_args(argv)
    torch_device = "cpu"
    if args.device == "cpu" and tf.config.list_physical_devices("GPU"):
        # Hide the GPU before TensorFlow starts, so the layers (ours and Keras's) run
        # their CPU path and place nothing on it.
        try:
            tf.config.set_visible_devices([], "GPU")
        except RuntimeError as error:  # TensorFlow was already initialized
            sys.exit(f"layers.py: --device cpu could not hide the GPU: {error}")
    if args.device == "gpu":
        if not tf.config.list_physical_devices("GPU"):
            sys.exit(
                "layers.py: --device gpu, but TensorFlow sees no GPU "
                "(tf.config.list_physical_devices('GPU') is empty); run on a GPU machine "
                "or use --device cpu"
            )
        torch_device = "cuda" if torch is not None and torch.cuda.is_available() else None
    sync = SYNC[args.device]
    use_torch = torch is not None and not args.no_torch and torch_device is not None
    layers = GPU_LAYERS if args.device == "gpu" else LAYERS
    if args.only is not None:
        layers = tuple(spec for spec in layers if args.only.lower() in spec.name.lower())
        if not layers:
            sys.exit(f"layers.py: --only {args.only!r} matches no layer")
    warmup, target_s, min_iters = (2, 0.05, 2) if args.quick else (3, 0.25, 3)
    keras.utils.set_random_seed(SEED)

    info = machine_info(args.device, torch_device)
    print("seqapps recurrent layer benchmark")
    for key, value in info.items():
        print(f"  {key}: {value}")
    print(
        f"  rounds: {args.rounds} (median shown), ~{target_s:.2f} s per timing, "
        f"{warmup} warm-up calls{' [quick: indicative only]' if args.quick else ''}"
    )
    if args.rounds < 5 and not args.quick:
        print("  note: fewer than 5 rounds; medians are unreliable")
    if torch is None:
        print("  note: torch is not importable; the torch columns are skipped")
    elif args.no_torch:
        print("  note: --no-torch given; the torch columns are skipped")
    if args.device == "gpu":
        with tf.device("/GPU:0"):
            for spec in layers:
                if "cuDNN" in spec.name:
                    layer = spec.ours(8)
                    layer = getattr(layer, "forward_layer", layer)
                    print(f"  ours {spec.name}: will_use_cudnn() = {layer.will_use_cudnn()}")
    print(flush=True)

    device_scope = tf.device("/GPU:0") if args.device == "gpu" else contextlib.nullcontext()
    shapes = SHAPES[:1] if args.quick else SHAPES
    results = {}
    for spec in layers:
        for shape in shapes:
            for mode in MODES:
                with device_scope:
                    variants = build_variants(spec, shape, mode, use_torch, torch_device)
                started = time.perf_counter()
                with device_scope:
                    results[(spec.name, shape, mode)] = measure_row(
                        variants, args.rounds, warmup, target_s, min_iters
                    )
                print(
                    f"  measured {spec.name} {'x'.join(map(str, shape))} {mode} "
                    f"({time.perf_counter() - started:.0f} s)",
                    file=sys.stderr,
                    flush=True,
                )
    print(format_table(table_rows(results), args.markdown))
    print()
    print(
        "Times: ms per iteration, median over rounds (each round: median of its iterations).\n"
        "Ratios: median over rounds of the per-round ratio; ours/keras compares each side's "
        "best of jit off/on, ours/torch ours' best over torch's best of its thread "
        "settings.\n"
        "spread tf: the largest relative interquartile range of the round times among the "
        "row's ours/keras variants; spread torch: the same for torch's columns."
    )


if __name__ == "__main__":
    main()
