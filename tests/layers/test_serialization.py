"""`.keras` files load in a fresh process; SavedModels serve without seqapps."""

import textwrap

import keras
import numpy as np
import pytest

from seqapps.layers import GRU, LSTM, Bidirectional, SimpleRNN

X = np.random.default_rng(0).normal(size=(3, 6, 4)).astype("float32")
X[1, 4:] = 0.0  # padding, masked by the Masking layer below


def _model():
    keras.utils.set_random_seed(7)
    inputs = keras.Input((6, 4), name="features")
    masked = keras.layers.Masking(0.0)(inputs)
    hidden = Bidirectional(GRU(5, return_sequences=True), merge_mode="sum")(masked)
    hidden = Bidirectional(
        GRU(5, relevance_gate=False, return_sequences=True, go_backwards=False), merge_mode="ave"
    )(hidden)
    hidden = Bidirectional(GRU(5, reset_after=True, return_sequences=True))(hidden)
    hidden = SimpleRNN(5, return_sequences=True, activation="relu")(hidden)
    sequence, state_a, state_c = LSTM(
        6, return_sequences=True, return_state=True, dropout=0.1, unit_forget_bias=False
    )(hidden)
    pooled = keras.layers.GlobalAveragePooling1D()(sequence)
    outputs = keras.layers.Concatenate(name="summary")([pooled, state_a, state_c])
    return keras.Model(inputs, outputs)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    directory = tmp_path_factory.mktemp("saved")
    model = _model()
    np.save(directory / "x.npy", X)
    np.save(directory / "expected.npy", model.predict(X, verbose=0))
    model.save(directory / "model.keras")
    model.export(str(directory / "saved_model"), verbose=False)
    return directory


@pytest.mark.slow
def test_keras_file_loads_in_fresh_process(saved, run_python):
    script = textwrap.dedent(
        f"""
        import numpy as np, keras, seqapps
        model = keras.saving.load_model({str(saved / "model.keras")!r})
        x = np.load({str(saved / "x.npy")!r})
        got = model.predict(x, verbose=0)
        want = np.load({str(saved / "expected.npy")!r})
        assert got.shape == want.shape, (got.shape, want.shape)
        print("MAXDIFF", float(np.abs(got - want).max()))
        names = sorted({{type(l).__module__.split(".")[0] for l in model.layers}})
        print("MODULES", names)
        """
    )
    result = run_python(["-c", script])
    assert float(result.stdout.split("MAXDIFF")[1].split()[0]) == 0.0
    assert "seqapps" in result.stdout.split("MODULES")[1]


@pytest.mark.slow
def test_keras_file_needs_seqapps_registered(saved, run_python):
    script = f"import keras; keras.saving.load_model({str(saved / 'model.keras')!r})"
    result = run_python(["-c", script], check=False)
    assert result.returncode != 0
    assert "seqapps" in result.stderr


@pytest.mark.slow
def test_saved_model_serves_without_seqapps(saved, run_python):
    script = textwrap.dedent(
        f"""
        import sys
        import numpy as np, tensorflow as tf
        loaded = tf.saved_model.load({str(saved / "saved_model")!r})
        serve = loaded.signatures["serving_default"]
        x = np.load({str(saved / "x.npy")!r})
        outputs = serve(features=tf.constant(x))
        (got,) = outputs.values()
        got_call = loaded.serve(tf.constant(x)).numpy()
        want = np.load({str(saved / "expected.npy")!r})
        diffs = [float(np.abs(g - want).max()) for g in (got.numpy(), got_call)]
        print("MAXDIFF", *diffs)
        print("SEQAPPS_IMPORTED", any(m.split(".")[0] == "seqapps" for m in sys.modules))
        """
    )
    result = run_python(["-c", script])
    diffs = [float(v) for v in result.stdout.split("MAXDIFF")[1].split()[:2]]
    assert max(diffs) <= 1e-6, diffs
    assert "SEQAPPS_IMPORTED False" in result.stdout


@pytest.mark.slow
def test_saved_model_has_dynamic_batch(saved, run_python):
    script = textwrap.dedent(
        f"""
        import tensorflow as tf
        loaded = tf.saved_model.load({str(saved / "saved_model")!r})
        spec = loaded.signatures["serving_default"].structured_input_signature[1]["features"]
        print("SHAPE", spec.shape.as_list())
        print("ONE", loaded.serve(tf.zeros((1, 6, 4))).shape.as_list())
        """
    )
    result = run_python(["-c", script])
    assert "SHAPE [None, 6, 4]" in result.stdout
    assert "ONE [1, 18]" in result.stdout


def test_bidirectional_copies_ignore_a_stale_object_sharing_entry():
    # While a model loads, Keras keeps an object-sharing scope keyed by id();
    # an id reused by a new layer used to make Bidirectional pick up a stale
    # backward layer as its forward copy, so loading failed now and then.
    from keras.src.backend.common import global_state
    from keras.src.saving import serialization_lib

    inner = LSTM(3)
    stale = LSTM(3, go_backwards=True)
    with serialization_lib.ObjectSharingScope():
        configs = global_state.get_global_attribute("shared_objects/id_to_config_map")
        objects = global_state.get_global_attribute("shared_objects/id_to_obj_map")
        configs[id(inner)] = {"module": "seqapps", "shared_object_id": id(inner)}
        objects[id(inner)] = stale
        layer = Bidirectional(inner)
    assert layer.forward_layer is not stale and layer.backward_layer is not stale
    assert not layer.forward_layer.go_backwards and layer.backward_layer.go_backwards
