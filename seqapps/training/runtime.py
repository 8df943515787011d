"""Devices, seed, precision, distribution strategy and optimizer of a training run.

`setup_runtime(config)` must run before any TensorFlow op; it returns the strategy
whose scope the model is built in. `multi_worker_task` reads `TF_CONFIG`.
"""

import json
import os
import tempfile
from pathlib import Path

from seqapps.errors import UserError


def setup_runtime(config):
    """Apply devices, seed, precision policy; return the `tf.distribute` strategy.

    Must run before any TensorFlow op (logical devices are fixed at start-up).
    """
    import keras
    import tensorflow as tf

    if config.logical_cpus > 1:
        cpu = tf.config.list_physical_devices("CPU")[0]
        try:
            tf.config.set_logical_device_configuration(
                cpu, [tf.config.LogicalDeviceConfiguration()] * config.logical_cpus
            )
        except RuntimeError as error:
            raise UserError(f"--logical-cpus: TensorFlow already started ({error})") from error
    strategy = _multi_worker_strategy() if config.multi_worker else None
    keras.utils.set_random_seed(config.seed)
    precision = config.mixed_precision
    if precision == "auto":
        precision = "float16" if tf.config.list_physical_devices("GPU") else "bfloat16"
    keras.config.set_dtype_policy("float32" if precision == "off" else f"mixed_{precision}")

    if config.strategy == "mirrored":
        devices = [d.name for d in tf.config.list_logical_devices("GPU")] or [
            d.name for d in tf.config.list_logical_devices("CPU")
        ]
        return tf.distribute.MirroredStrategy(devices)
    if strategy is not None:
        return strategy
    return tf.distribute.get_strategy()


def _multi_worker_strategy():
    import tensorflow as tf

    from seqapps import keras_compat

    multi_worker_task()  # a clear error for a missing or malformed TF_CONFIG
    # Created before any other TensorFlow op, as the collective strategy requires.
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    keras_compat.enable_multi_worker_fit()
    return strategy


def multi_worker_task():
    """`(index, is_chief)` of this process in the cluster that `TF_CONFIG` describes.

    The chief is the task of type "chief" or, without one, worker 0 (TensorFlow's rule).
    """
    text = os.environ.get("TF_CONFIG")
    if not text:
        raise UserError(
            "--strategy multiworker needs TF_CONFIG describing the cluster, e.g. "
            '{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
            '"task": {"type": "worker", "index": 0}}'
        )
    try:
        config = json.loads(text)
        task, cluster = config["task"], config["cluster"]
        kind, index = task["type"], int(task["index"])
    except (ValueError, KeyError, TypeError) as error:
        raise UserError(f"TF_CONFIG is not a valid cluster description ({error})") from error
    if kind not in cluster or not 0 <= index < len(cluster[kind]):
        raise UserError(f"TF_CONFIG: task {kind} {index} is not in its cluster {cluster}")
    is_chief = kind == "chief" or (kind == "worker" and index == 0 and "chief" not in cluster)
    return index, is_chief


def worker_directory(out, index):
    """Where a non-chief worker writes its copy of the run: a private, fixed place.

    Fixed (from `--out` and the worker's index), so a restarted worker finds its
    checkpoint again; outside `--out`, which only the chief writes.
    """
    import hashlib

    key = hashlib.sha1(str(Path(out).resolve()).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / "seqapps-workers" / f"{key}-worker{index}"


def is_lost_worker(error):
    """Whether `error` is how a collective op reports a worker that stopped answering."""
    names = {"UnavailableError", "DeadlineExceededError", "AbortedError", "CancelledError"}
    return any(type(cause).__name__ in names for cause in _causes(error))


def _causes(error):
    while error is not None:
        yield error
        error = error.__cause__ or error.__context__


def make_optimizer(config):
    """The optimizer named by `--optimizer`, with learning rate and clipping."""
    import keras

    kwargs = {"learning_rate": config.lr}
    if config.clipnorm:
        kwargs["clipnorm"] = config.clipnorm
    if config.clipvalue:
        kwargs["clipvalue"] = config.clipvalue
    if config.weight_decay:
        kwargs["weight_decay"] = config.weight_decay
    classes = {
        "adam": keras.optimizers.Adam,
        "adamw": keras.optimizers.AdamW,
        "nadam": keras.optimizers.Nadam,
        "rmsprop": keras.optimizers.RMSprop,
        "sgd": keras.optimizers.SGD,
    }
    return classes[config.optimizer](**kwargs)


def inference_function(model):
    """A compiled `model(x, training=False)` for any batch shape.

    Unlike `predict_on_batch` it runs in the default (cross-replica) context,
    so it gives one output per example under any distribution strategy.
    """
    import tensorflow as tf

    function = tf.function(lambda inputs: model(inputs, training=False), reduce_retracing=True)
    return lambda inputs: function(inputs).numpy()
