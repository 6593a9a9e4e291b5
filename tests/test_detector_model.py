"""The shipped detector on synthetic frames, and the Keras → ONNX export path."""

from collections.abc import Callable

import numpy as np
import pytest

from edge_alpr.annotations import ONE_ROW, TWO_ROW
from edge_alpr.detector import Detection, Detector
from edge_alpr.geometry import Box
from edge_alpr.models import DETECTOR, FP32, INT8, bundled_model
from edge_alpr.pipeline import PlateReader
from edge_alpr.session import OnnxModel

pytest.importorskip("export.synth", reason="rendering needs the export extra")
from export import make_sample  # noqa: E402
from export.synth.plate import SCHEMES  # noqa: E402
from export.synth.scene import render_scene  # noqa: E402


def frame_with_plate(width_px: float, layout: str, seed: int) -> tuple[np.ndarray, Box]:
    """The drawn street of the bundled sample (no real photo) with one plate ``width_px``
    wide pasted in perspective on the near car's bumper by the scene renderer."""
    rng = np.random.default_rng(seed)
    street, bumpers = make_sample.street(rng)
    image = np.clip(street, 0, 255).astype(np.uint8)
    bx0, by0, bx1, by1 = bumpers[0]
    scene = render_scene(rng, image[by0:by1, bx0:bx1], [], n_plates=1, layouts=[layout],
                         widths=[width_px], scheme=SCHEMES[0])
    image[by0:by1, bx0:bx1] = scene.image
    (plate,) = scene.plates
    return image, plate.box.shift(bx0, by0)


# The shipped detector alone misses the 100 px one-row plate or draws its box too large: a
# known gap, kept visible here (strict: a pass is reported). The plate check redraws it. (The
# detector before the camera-blur fine-tune also failed the 140 px one-row and 80 px two-row.)
SMALL = pytest.mark.xfail(strict=True, reason="small plate: box too large / missed")
SIZES = [(100, ONE_ROW), (140, ONE_ROW), (180, ONE_ROW), (260, ONE_ROW), (320, ONE_ROW),
         (80, TWO_ROW), (120, TWO_ROW), (160, TWO_ROW)]
SMALLEST = {(100, ONE_ROW)}


def shipped_detector(kind: str) -> Callable[[np.ndarray], list[Detection]]:
    """``fp32``, ``int8``, or ``cascade``: the fp32 detector with the fp32 plate check, as
    :class:`edge_alpr.PlateReader` runs it (``precision="fp32"``)."""
    if kind == "cascade":
        return PlateReader(threads=1, precision=FP32).detect
    return Detector(OnnxModel(bundled_model(DETECTOR, kind).path, threads=1))


@pytest.mark.parametrize("kind, width, layout", [
    pytest.param(kind, w, layout, marks=SMALL if kind != "cascade" and (w, layout) in SMALLEST
                 else ())
    for kind in (FP32, INT8, "cascade") for w, layout in SIZES])
def test_shipped_detector_finds_a_pasted_plate(kind, width, layout):
    """In two of three scenes (three seeds), the plate is found with IoU ≥ 0.7."""
    detector = shipped_detector(kind)
    ious = []
    for seed in range(width, width + 3):
        image, truth = frame_with_plate(width, layout, seed=seed)
        ious.append(max((d.box.iou(truth) for d in detector(image)), default=0.0))
    assert np.median(ious) >= 0.7, f"best IoU per scene {np.round(ious, 2)}"


def test_export_of_a_tiny_detector_matches_keras(tmp_path):
    pytest.importorskip("tensorflow", reason="needs the export extra")
    from export.detector_model import STRIDE, build_detector
    from export.onnx_export import export_onnx, max_abs_diff

    hw = (64, 96)
    model = build_detector(hw, width=0.25)
    path = export_onnx(model, tmp_path / "tiny.onnx", (1, *hw, 1),
                       {"input_height": hw[0], "input_width": hw[1], "stride": STRIDE,
                        "score_threshold": 0.3})
    rng = np.random.default_rng(0)
    batches = [rng.integers(0, 256, (1, *hw, 1), dtype=np.uint8) for _ in range(3)]
    assert max_abs_diff(model, path, batches) < 1e-4
    detector = Detector(OnnxModel(path))  # the runtime reads the export's metadata
    assert (detector.input_hw, detector.stride, detector.threshold) == (hw, STRIDE, 0.3)
    assert isinstance(detector(rng.integers(0, 256, (120, 200), dtype=np.uint8)), list)
