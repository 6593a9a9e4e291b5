import pytest

from edge_alpr.geometry import Box
from edge_alpr.pipeline import PlateResult
from edge_alpr.tracking import PlateTracker


def plate(x: float, text: str, conf: float = 0.9, pattern: bool = True) -> PlateResult:
    return PlateResult(Box(x, 100, x + 200, 160), 0.9, text, conf, "one-row", "УБ",
                       "Ulaanbaatar", pattern, (), ())


def run(frames: list[list[PlateResult]], **kw) -> list:
    tracker = PlateTracker(**kw)
    out = []
    for i, plates in enumerate(frames):
        out += tracker.update(i, plates)
    return out + tracker.finish()


def test_one_moving_plate_is_one_track_with_the_voted_text():
    frames = [[plate(100 + 10 * i, "4253УБГ" if i != 3 else "4258УБГ")] for i in range(8)]
    (track,) = run(frames)
    assert (track.text, track.frames, track.first_frame, track.last_frame) == ("4253УБГ", 8, 0, 7)
    assert track.confidence == pytest.approx(7 / 8)


def test_two_plates_side_by_side_are_two_tracks():
    frames = [[plate(100 + 5 * i, "4253УБГ"), plate(900 - 5 * i, "7518УБА")] for i in range(5)]
    tracks = run(frames)
    assert sorted(t.text for t in tracks) == ["4253УБГ", "7518УБА"]
    assert all(t.frames == 5 for t in tracks)


def test_a_plate_gone_longer_than_max_missed_starts_a_new_track():
    frames = [[plate(100, "4253УБГ")]] + [[]] * 3 + [[plate(100, "4253УБГ")]]
    assert len(run(frames, max_missed=2)) == 2
    assert len(run(frames, max_missed=5)) == 1


def test_a_standard_read_outvotes_a_more_confident_nonstandard_one():
    frames = [[plate(100, "4253УБГ", conf=0.5)], [plate(100, "4253УБ", conf=0.9, pattern=False)]]
    (track,) = run(frames)
    assert track.text == "4253УБГ" and track.matches_pattern


def test_a_jump_across_the_frame_is_not_the_same_track():
    assert len(run([[plate(100, "4253УБГ")], [plate(1500, "4253УБГ")]])) == 2
