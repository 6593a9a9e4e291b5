"""The detector's training crops (export.detector_data): scale, camera blur and glare."""

import numpy as np
import pytest

detector_data = pytest.importorskip("export.detector_data", reason="needs the export extra")


@pytest.mark.parametrize("scale", [1.0, 0.5])
def test_a_crop_knows_its_pixels_per_pixel_of_a_1920_wide_frame(scale):
    """The blur's lengths are in 1920-frame pixels: a plate 200 of them wide (100 px in a
    half-resolution scene) is ``200 × frame_px`` crop pixels wide, whatever the frame's scale."""
    image = np.full((540, 960) if scale < 1 else (1080, 1920), 120, np.uint8)
    width = 200 * scale
    frame = detector_data.Frame(image, np.array([[400, 300, 400 + width, 300 + width / 4]],
                                                 np.float32), scale)
    rng = np.random.default_rng(0)
    for _ in range(20):
        _, boxes, frame_px = detector_data.random_crop(rng, frame, near_plate=1.0)
        assert boxes[0, 2] - boxes[0, 0] == pytest.approx(200 * frame_px, rel=0.02)


def test_camera_blur_smears_its_share_of_crops_and_leaves_the_rest():
    stripes = np.tile(np.repeat(np.array([40, 220], np.uint8), 4), (64, 8))  # 64 × 64
    rng = np.random.default_rng(1)
    changed = [not np.array_equal(detector_data.camera_blur(rng, stripes, 1.0), stripes)
               for _ in range(600)]
    share = detector_data.MOTION_SHARE + detector_data.DEFOCUS_SHARE
    assert np.mean(changed) == pytest.approx(share, abs=0.06)


def test_headlight_glare_saturates_a_spot_on_the_plate_and_leaves_the_rest(monkeypatch):
    """Every plate asked for gets a saturated spot within its middle, and nothing far from the
    plates changes unless the spot anywhere is drawn."""
    monkeypatch.setattr(detector_data, "GLARE_PLATE", 1.0)
    monkeypatch.setattr(detector_data, "GLARE_ANYWHERE", 0.0)
    crop = np.full((256, 256), 120, np.uint8)
    boxes = np.array([[20, 30, 120, 55], [140, 180, 240, 205]], np.float32)
    rng = np.random.default_rng(3)
    for _ in range(20):
        out = detector_data.headlight_glare(rng, crop, boxes)
        assert crop.max() == 120  # the input is not touched
        for x0, y0, x1, y1 in boxes.astype(int):
            w, h = x1 - x0, y1 - y0
            middle = out[y0 + h // 5:y1 - h // 5, x0 + w // 10:x1 - w // 10]
            assert middle.max() == 255
        assert (out[95:140, :] == 120).all()  # between the plates, beyond both spots' reach


def test_headlight_glare_draws_spots_off_plates_at_its_share(monkeypatch):
    monkeypatch.setattr(detector_data, "GLARE_PLATE", 0.0)
    crop = np.full((256, 256), 100, np.uint8)
    rng = np.random.default_rng(4)
    changed = [detector_data.headlight_glare(rng, crop, np.zeros((0, 4), np.float32)).max() > 100
               for _ in range(400)]
    assert np.mean(changed) == pytest.approx(detector_data.GLARE_ANYWHERE, abs=0.05)


@pytest.mark.parametrize("flag, stage", [("blur", "camera_blur"), ("glare", "headlight_glare")])
def test_batches_get_a_camera_stage_only_when_asked(monkeypatch, flag, stage):
    seen = []

    def spy(rng, crop, extra):  # extra: the crop's pixels per frame pixel, or its boxes
        seen.append(extra)
        return np.zeros_like(crop)

    monkeypatch.setattr(detector_data, stage, spy)
    monkeypatch.setattr(detector_data, "photometric", lambda rng, crop: crop)
    frame = detector_data.Frame(np.full((1080, 1920), 200, np.uint8),
                                np.array([[800, 500, 1000, 550]], np.float32))
    plain = detector_data.make_batch(np.random.default_rng(2), [frame], np.ones(1), 8)[0]
    assert not seen and (plain == 200).mean() > 0.5
    changed = detector_data.make_batch(np.random.default_rng(2), [frame], np.ones(1), 8,
                                       **{flag: True})[0]
    assert len(seen) == 8 and not changed.any()
    if flag == "blur":
        lo, hi = detector_data.SCALE_RANGE
        assert all(lo * detector_data.BASE_SCALE <= px <= hi * detector_data.BASE_SCALE
                   for px in seen)
    else:  # the frame's one plate, in crop pixels
        assert all(boxes.shape == (1, 4) for boxes in seen)
