import logging
import re
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import onnx
import onnxruntime
import pytest
from onnx import TensorProto, helper

from edge_alpr.bench import sample_frames
from edge_alpr.detector import Detector
from edge_alpr.errors import InferenceError, ModelLoadError
from edge_alpr.image import read_gray
from edge_alpr.models import CHARS, DETECTOR, FP32, PLATE_OCR, VERIFIER, bundled_model
from edge_alpr.pipeline import PlateReader
from edge_alpr.plate_ocr import PlateOCR
from edge_alpr.recognizer import Recognizer
from edge_alpr.session import (
    ACCELERATOR_BATCH,
    PROVIDERS,
    TRT_CACHE_ENV,
    OnnxModel,
    accelerator_asked,
    resolve_providers,
)
from edge_alpr.verifier import PlateVerifier

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"
TRT = "TensorrtExecutionProvider"
META = {"classes": "0123456789#", "input_size": "36x20"}


def save(model: onnx.ModelProto, path) -> str:
    model.ir_version = 8  # old enough for any onnxruntime this project supports
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return str(path)


@pytest.fixture(scope="module")
def add_model(tmp_path_factory) -> str:
    """y = x + 1 and z = identity(x), on a batch of any size."""
    graph = helper.make_graph(
        [helper.make_node("Add", ["x", "one"], ["y"]), helper.make_node("Identity", ["x"], ["z"])],
        "add",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3]),
         helper.make_tensor_value_info("z", TensorProto.FLOAT, ["batch", 3])],
        initializer=[helper.make_tensor("one", TensorProto.FLOAT, [1], [1.0])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    helper.set_model_props(model, META)
    return save(model, tmp_path_factory.mktemp("m") / "add.onnx")


@pytest.fixture(scope="module")
def reshape_model(tmp_path_factory) -> str:
    """Reshapes any vector to 2×3: fails at run time unless it has 6 elements."""
    graph = helper.make_graph(
        [helper.make_node("Reshape", ["x", "shape"], ["y"])], "reshape",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])],
        initializer=[helper.make_tensor("shape", TensorProto.INT64, [2], [2, 3])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    return save(model, tmp_path_factory.mktemp("m") / "reshape.onnx")


def test_introspection_and_run(add_model):
    m = OnnxModel(add_model, threads=1)
    assert (m.input_name, m.input_shape, m.input_dtype) == ("x", ("batch", 3), np.float32)
    assert m.output_names == ("y", "z")
    assert m.metadata == META
    assert m.providers == (CPU,)
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    y, z = m.run(x)
    np.testing.assert_array_equal(y, x + 1)
    np.testing.assert_array_equal(z, x)


@pytest.mark.parametrize("threads", [1, 2, None])
def test_threads_are_set(add_model, threads):
    options = OnnxModel(add_model, threads=threads)._session.get_session_options()
    assert options.intra_op_num_threads == (threads or 0)
    assert options.inter_op_num_threads == 1
    assert options.execution_mode == onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    # Idle pool threads must not spin: they starve the OpenCV work between model calls.
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"


@pytest.mark.parametrize("threads", [0, -1, 1.5])
def test_bad_threads(add_model, threads):
    with pytest.raises(ValueError, match="threads"):
        OnnxModel(add_model, threads=threads)


def test_one_model_serves_several_threads(add_model):
    m = OnnxModel(add_model, threads=1)
    batches = [np.full((i + 1, 3), i, dtype=np.float32) for i in range(16)]
    with ThreadPoolExecutor(4) as pool:
        outs = list(pool.map(m.run, batches))
    for x, (y, _) in zip(batches, outs, strict=True):
        np.testing.assert_array_equal(y, x + 1)


@pytest.mark.parametrize("names, available, expected, warned", [
    (("cpu",), [CPU], [CPU], False),
    ("cpu", [CPU], [CPU], False),
    (("cuda",), [CUDA, CPU], [CUDA, CPU], False),
    (("CUDA", "cpu"), [CUDA, CPU], [CUDA, CPU], False),
    (("cuda",), [CPU], [CPU], True),
    (("tensorrt", "cuda"), ["TensorrtExecutionProvider", CPU], ["TensorrtExecutionProvider", CPU],
     True),
    (("openvino", "coreml"), [CPU], [CPU], True),
    (("cpu", "cpu"), [CPU], [CPU], False),
])
def test_resolve_providers(names, available, expected, warned, caplog):
    with caplog.at_level(logging.WARNING, logger="edge_alpr.session"):
        assert resolve_providers(names, available) == expected
    assert bool(caplog.records) == warned


def test_friendly_names_map_to_onnxruntime_names():
    assert PROVIDERS == {
        "cpu": "CPUExecutionProvider",
        "cuda": "CUDAExecutionProvider",
        "tensorrt": "TensorrtExecutionProvider",
        "openvino": "OpenVINOExecutionProvider",
        "coreml": "CoreMLExecutionProvider",
    }


def test_missing_provider_falls_back_to_cpu_with_a_warning(add_model, monkeypatch, caplog):
    monkeypatch.setattr(onnxruntime, "get_available_providers", lambda: [CPU])
    with caplog.at_level(logging.WARNING, logger="edge_alpr.session"):
        m = OnnxModel(add_model, providers=("cuda", "cpu"))
    assert m.providers == (CPU,)
    assert any("cuda" in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records)


def test_provider_that_does_not_start_is_reported(add_model, monkeypatch, caplog):
    # Claimed available but absent: onnxruntime itself falls back to CPU, which must be said.
    monkeypatch.setattr(onnxruntime, "get_available_providers", lambda: [CUDA, CPU])
    with caplog.at_level(logging.WARNING, logger="edge_alpr.session"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # onnxruntime's own warning about the same
        m = OnnxModel(add_model, providers=("cuda",))
    assert m.providers == (CPU,)
    assert any("did not start" in r.getMessage() for r in caplog.records)


def test_unknown_provider_names_the_allowed_ones(add_model):
    with pytest.raises(ValueError, match="cpu, cuda, tensorrt, openvino, coreml"):
        OnnxModel(add_model, providers=("gpu",))


@pytest.mark.parametrize("content", [None, b"", b"not a model", b"\x08\x07\x12\x03abc"],
                         ids=["missing", "empty", "text", "truncated protobuf"])
def test_unloadable_file_raises_model_load_error_naming_it(tmp_path, content):
    path = tmp_path / "detector_int8.onnx"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ModelLoadError, match="detector_int8.onnx") as e:
        OnnxModel(path)
    assert e.value.path == path


def test_two_inputs_are_refused(tmp_path):
    graph = helper.make_graph(
        [helper.make_node("Add", ["a", "b"], ["y"])], "add2",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1]) for n in "ab"],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    path = save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]),
                tmp_path / "two.onnx")
    with pytest.raises(ModelLoadError, match="one input"):
        OnnxModel(path)


@pytest.mark.parametrize("fixture, x", [
    ("reshape_model", np.ones(5, dtype=np.float32)),  # fails inside the graph
    ("add_model", np.ones((2, 3), dtype=np.float64)),  # refused by onnxruntime's checks
    ("add_model", np.ones((2, 4), dtype=np.float32)),
])
def test_run_failure_raises_inference_error(fixture, x, request):
    m = OnnxModel(request.getfixturevalue(fixture))
    with pytest.raises(InferenceError, match=re.escape(f"shape {x.shape} and dtype {x.dtype}")):
        m.run(x)


@pytest.mark.parametrize("lean", [False, True])
def test_lean_turns_off_the_arena_and_memory_patterns(add_model, lean):
    m = OnnxModel(add_model, lean=lean)
    options = m._session.get_session_options()
    assert (options.enable_cpu_mem_arena, options.enable_mem_pattern) == (not lean, not lean)
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_array_equal(m.run(x)[0], x + 1)


class _RecordingSession(onnxruntime.InferenceSession):
    """Records the providers asked for, then opens the model on the CPU."""
    asked: list = []

    def __init__(self, path, options, providers):
        type(self).asked = providers
        super().__init__(path, options, providers=[CPU])


@pytest.mark.parametrize("cache, names, expected", [
    ("/var/cache/trt", ("tensorrt", "cuda"),
     [(TRT, {"trt_engine_cache_enable": "True", "trt_engine_cache_path": "/var/cache/trt"}),
      CUDA, CPU]),
    (None, ("tensorrt", "cuda"), [TRT, CUDA, CPU]),
    ("/var/cache/trt", ("cuda",), [CUDA, CPU]),  # no TensorRT, no options
])
def test_tensorrt_engine_cache_from_the_environment(add_model, monkeypatch, cache, names,
                                                    expected):
    monkeypatch.setattr(onnxruntime, "get_available_providers", lambda: [TRT, CUDA, CPU])
    monkeypatch.setattr(onnxruntime, "InferenceSession", _RecordingSession)
    if cache:
        monkeypatch.setenv(TRT_CACHE_ENV, cache)
    else:
        monkeypatch.delenv(TRT_CACHE_ENV, raising=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        OnnxModel(add_model, providers=names)
    assert _RecordingSession.asked == expected


@pytest.mark.parametrize("n", [0, 1, 3, 4, 9])
def test_fixed_batch_pads_and_splits_with_the_same_results(add_model, n, monkeypatch):
    m = OnnxModel(add_model, threads=1, fixed_batch=4)
    shapes = []
    run = m._session.run
    monkeypatch.setattr(m._session, "run", lambda out, feed: shapes.append(feed["x"].shape)
                        or run(out, feed))
    x = np.arange(3 * n, dtype=np.float32).reshape(n, 3)
    y, z = m.run(x, expected=[(n, 3)])
    np.testing.assert_array_equal(y, x + 1)
    np.testing.assert_array_equal(z, x)
    assert shapes == [(4, 3)] * max(1, -(-n // 4))  # one shape, whatever the batch


def test_fixed_batch_only_on_an_accelerator_and_a_dynamic_batch(add_model, monkeypatch):
    assert OnnxModel(add_model).fixed_batch is None  # the CPU runs each batch as it comes

    class OnCuda(onnxruntime.InferenceSession):  # a session that says it runs on CUDA
        def __init__(self, path, options, providers):
            super().__init__(path, options, providers=[CPU])

        def get_providers(self):
            return [CUDA, CPU]

    monkeypatch.setattr(onnxruntime, "get_available_providers", lambda: [CUDA, CPU])
    monkeypatch.setattr(onnxruntime, "InferenceSession", OnCuda)
    assert OnnxModel(add_model, providers=("cuda",)).fixed_batch == ACCELERATOR_BATCH
    detector = bundled_model(DETECTOR, FP32).path  # batch fixed at 1 by the export
    assert OnnxModel(detector, providers=("cuda",)).fixed_batch is None


def test_reader_in_fixed_batches_reads_as_it_does_on_the_cpu():
    plain = PlateReader(threads=1)
    models = {role: OnnxModel(m.path, threads=1, fixed_batch=ACCELERATOR_BATCH)
              for role, m in plain.models.items()}
    fixed = PlateReader(threads=1, detector=Detector(models[DETECTOR]),
                        plate_check=PlateVerifier(models[VERIFIER]),
                        recognizer=Recognizer(models[CHARS]), plate_ocr=PlateOCR(models[PLATE_OCR]))
    assert [m.fixed_batch for m in fixed.models.values()] == [None, 8, 8, 8]
    for path in sample_frames():
        image = read_gray(path)
        want, got = plain.read(image), fixed.read(image)
        assert [p.text for p in got] == [p.text for p in want] and want
        for g, w in zip(got, want, strict=True):
            assert g.box == w.box
            assert g.confidence == pytest.approx(w.confidence, abs=1e-5)


@pytest.mark.parametrize("names, available, expected", [
    (("cuda",), [CUDA, CPU], True),
    (("tensorrt", "cuda"), [CUDA, CPU], True),  # TensorRT missing: CUDA runs first
    (("cpu", "cuda"), [CUDA, CPU], False),  # asked for the CPU first
    (("cuda",), [CPU], False),  # this onnxruntime has no CUDA
    ("cpu", [CUDA, CPU], False),
])
def test_accelerator_asked(names, available, expected, monkeypatch):
    monkeypatch.setattr(onnxruntime, "get_available_providers", lambda: available)
    assert accelerator_asked(names) is expected
