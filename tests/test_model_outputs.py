"""A model that returns NaN or a wrong shape is an InferenceError naming it, at every stage:
checked once where the session runs, and in ``edge-alpr read`` one error line per image, the
batch going on, exit 1, no traceback. The broken models are tiny ONNX graphs built here."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from edge_alpr.detector import Detector
from edge_alpr.errors import InferenceError
from edge_alpr.image import read_image
from edge_alpr.models import CHARS, DETECTOR, PLATE_OCR, PRECISIONS, ROLES, VERIFIER, bundled_model
from edge_alpr.pipeline import BOTH, SEGMENTS, WHOLE, PlateReader
from edge_alpr.plate_ocr import PlateOCR
from edge_alpr.recognizer import Recognizer
from edge_alpr.session import OnnxModel, check_outputs
from edge_alpr.verifier import PlateVerifier

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "samples" / "scene.jpg"

# What each role's model returns when sound, per sample of its batch, and a wrong shape.
GOOD = {DETECTOR: (48, 80, 5), VERIFIER: (5,), CHARS: (37,), PLATE_OCR: (7, 36)}
WRONG = {DETECTOR: (48, 80, 4), VERIFIER: (4,), CHARS: (36,), PLATE_OCR: (7, 35)}
STAGES = {DETECTOR: Detector, VERIFIER: PlateVerifier, CHARS: Recognizer, PLATE_OCR: PlateOCR}
# The reader that surely runs each stage (BOTH segments a plate only where it is unsure).
READER = {DETECTOR: BOTH, VERIFIER: BOTH, CHARS: SEGMENTS, PLATE_OCR: WHOLE}


def broken_model(role: str, fault: str, path: Path) -> Path:
    """A model with the shipped ``role`` model's input and metadata that returns the right
    shape full of NaN (``fault="nan"``) or finite values of a wrong shape (``"shape"``)."""
    shipped = onnx.load(str(bundled_model(role, PRECISIONS[1]).path))
    (inp,) = shipped.graph.input
    per_sample = GOOD[role] if fault == "nan" else WRONG[role]
    size = int(np.prod(per_sample))
    nodes = [
        helper.make_node("Cast", [inp.name], ["f"], to=TensorProto.FLOAT),
        helper.make_node("Flatten", ["f"], ["flat"], axis=1),
        helper.make_node("Slice", ["flat", "starts", "ends", "axes"], ["part"]),
        helper.make_node("Reshape", ["part", "shape"], ["shaped"]),
        helper.make_node("Mul", ["shaped", "scale"], ["out"]),
    ]
    init = [
        helper.make_tensor("starts", TensorProto.INT64, [1], [0]),
        helper.make_tensor("ends", TensorProto.INT64, [1], [size]),
        helper.make_tensor("axes", TensorProto.INT64, [1], [1]),
        helper.make_tensor("shape", TensorProto.INT64, [1 + len(per_sample)], [-1, *per_sample]),
        helper.make_tensor("scale", TensorProto.FLOAT, [1],
                           [float("nan") if fault == "nan" else 1 / 255]),
    ]
    graph = helper.make_graph(nodes, f"broken_{role}", [inp],
                              [helper.make_tensor_value_info("out", TensorProto.FLOAT,
                                                            [None] * (1 + len(per_sample)))],
                              initializer=init)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    helper.set_model_props(model, {p.key: p.value for p in shipped.metadata_props})
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


CASES = [(role, fault) for role in ROLES for fault in ("nan", "shape")]


@pytest.mark.parametrize("role, fault", CASES)
def test_a_broken_stage_raises_inference_error_naming_its_model(tmp_path, role, fault):
    path = broken_model(role, fault, tmp_path / f"broken_{role}.onnx")
    stage = STAGES[role](OnnxModel(path, threads=1))
    reader = PlateReader(threads=1, reader=READER[role], **{
        {DETECTOR: "detector", VERIFIER: "plate_check", CHARS: "recognizer",
         PLATE_OCR: "plate_ocr"}[role]: stage})
    with pytest.raises(InferenceError, match=f"broken_{role}.onnx") as e:
        reader.read(SAMPLE)
    assert ("NaN" in str(e.value)) == (fault == "nan")
    assert ("shape" in str(e.value)) == (fault == "shape")


@pytest.mark.parametrize("outputs, expected, problem", [
    ([np.zeros((2, 5), np.float32)], [(2, 5)], None),
    ([np.zeros((2, 5), np.float32), np.zeros(3, np.int64)], [(2, 5)], None),  # unchecked 2nd
    ([np.zeros((2, 4), np.float32)], [(2, 5)], "has shape (2, 4), expected (2, 5)"),
    ([np.zeros((1, 2, 5), np.float32)], [(2, 5)], "has shape (1, 2, 5)"),
    ([np.array([0.0, np.nan], np.float32)], [], "NaN or infinite"),
    ([np.array([0.0, -np.inf], np.float64)], [(2,)], "NaN or infinite"),
    ([np.array([0.0, np.nan], np.float16)], [(2,)], "NaN or infinite"),
    ([np.zeros(2, np.float32)], [(2,), (3,)], "1 output(s), expected 2"),
    ([np.array([1, 2], np.int64)], [(2,)], None),  # integers are always finite
])
def test_check_outputs(outputs, expected, problem):
    names = [f"o{i}" for i in range(len(outputs))]
    if problem is None:
        check_outputs("m.onnx", names, outputs, expected)
        return
    with pytest.raises(InferenceError) as e:
        check_outputs("m.onnx", names, outputs, expected)
    assert str(e.value).startswith("m.onnx: ") and problem in str(e.value)


# Runs the real command with the bundled models' folder swapped for one holding a broken model.
_LAUNCH = """
import sys
from pathlib import Path
import edge_alpr.models
folder = Path(sys.argv.pop(1))
edge_alpr.models.models_dir = lambda: folder
from edge_alpr.cli import app
app()
"""


@pytest.mark.parametrize("role, fault", CASES)
def test_read_gives_one_error_line_per_image_and_exit_1_without_traceback(tmp_path, role,
                                                                           fault):
    models = tmp_path / "models"
    shutil.copytree(REPO / "models", models)
    for precision in PRECISIONS:  # whichever precision the reader picks
        broken_model(role, fault, models / f"{role}_{precision}.onnx")
    images = tmp_path / "images"
    images.mkdir()
    for name in ("a.jpg", "b.jpg"):
        shutil.copy(SAMPLE, images / name)
    (images / "c.jpg").write_bytes(b"not a jpeg")
    run = subprocess.run([sys.executable, "-c", _LAUNCH, str(models), "read", "--json",
                          "--reader", READER[role], str(images)], capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    records = [json.loads(line) for line in run.stdout.splitlines()]
    assert [Path(r["image"]).name for r in records] == ["a.jpg", "b.jpg", "c.jpg"]
    for r in records[:2]:
        assert set(r) == {"image", "error"}
        assert f"{role}_" in r["error"] and (
            "NaN" in r["error"] if fault == "nan" else "shape" in r["error"])
    assert "not a decodable image" in records[2]["error"]


def test_the_shipped_models_pass_the_checks_on_the_sample():
    """The checks do not refuse what the shipped models return: the sample reads as before."""
    plates = PlateReader(threads=1).read(read_image(SAMPLE))
    assert sorted(p.text for p in plates) == ["4253УБГ", "9081ХӨР"]
