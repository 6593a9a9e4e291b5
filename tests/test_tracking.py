import pytest

from edge_alpr.geometry import Box
from edge_alpr.pipeline import PlateResult
from edge_alpr.tracking import APPROACHING, LEAVING, STATIONARY, PlateTracker, edit_distance


def plate(x: float, text: str, conf: float = 0.9, pattern: bool = True, y: float = 100,
          w: float = 200) -> PlateResult:
    return PlateResult(Box(x, y, x + w, y + w * 0.3), 0.9, text, conf, "one-row", "УБ",
                       "Ulaanbaatar", pattern, (), ())


def run(frames: list[list[PlateResult]], **kw) -> list:
    tracker = PlateTracker(**kw)
    out = []
    for i, plates in enumerate(frames):
        out += tracker.update(i, plates, stamp=100.0 + i, payload=i)
    return out + tracker.finish()


def test_one_moving_plate_is_one_track_with_the_voted_text():
    frames = [[plate(100 + 10 * i, "4253УБГ" if i != 3 else "4258УБГ")] for i in range(8)]
    (track,) = run(frames)
    assert (track.text, track.frames, track.first_frame, track.last_frame) == ("4253УБГ", 8, 0, 7)
    assert (track.first_stamp, track.last_stamp) == (100.0, 107.0)
    assert track.confidence == pytest.approx(7 / 8, abs=0.01)
    assert track.candidates[0][0] == "4253УБГ" and track.candidates[1][0] == "4258УБГ"
    assert track.ended


def test_two_plates_side_by_side_are_two_tracks():
    frames = [[plate(100 + 5 * i, "4253УБГ"), plate(900 - 5 * i, "7518УБА")] for i in range(5)]
    tracks = run(frames)
    assert sorted(t.text for t in tracks) == ["4253УБГ", "7518УБА"]
    assert all(t.frames == 5 for t in tracks)


def test_a_plate_gone_longer_than_max_missed_starts_a_new_track():
    frames = [[plate(100, "4253УБГ")]] * 2 + [[]] * 3 + [[plate(100, "4253УБГ")]] * 2
    assert len(run(frames, max_missed=2)) == 2
    assert len(run(frames, max_missed=5)) == 1


def test_a_standard_read_outvotes_a_more_confident_nonstandard_one():
    frames = [[plate(100, "4253УБГ", conf=0.5)], [plate(100, "4253УБ", conf=0.9, pattern=False)]]
    (track,) = run(frames)
    assert track.text == "4253УБГ" and track.matches_pattern


def test_a_jump_across_the_frame_is_not_the_same_track():
    frames = [[plate(100, "4253УБГ")]] * 2 + [[plate(1500, "4253УБГ")]] * 2
    assert len(run(frames)) == 2


def test_a_fast_pan_with_lost_frames_keeps_one_track_by_its_text():
    # The view jumps 1.5 plate widths between reads, and the plate is lost for 2 frames:
    # no overlap at all, the text carries the track.
    xs = [100, 400, 700, None, None, 1300, 1600]
    frames = [[plate(x, "4253УБГ")] if x is not None else [] for x in xs]
    (track,) = run(frames)
    assert track.frames == 5


def test_a_different_text_far_away_is_another_vehicle():
    frames = [[plate(100, "4253УБГ")], [plate(100, "4253УБГ")], [plate(500, "9081ХӨР")],
              [plate(500, "9081ХӨР")]]
    assert sorted(t.text for t in run(frames)) == ["4253УБГ", "9081ХӨР"]


def test_a_plate_zooming_in_is_one_approaching_track_and_zooming_out_leaving():
    growing = [[plate(800 - 20 * i, "4253УБГ", w=100 * 1.1 ** i)] for i in range(10)]
    (track,) = run(growing)
    assert track.direction == APPROACHING
    (track,) = run(growing[::-1])
    assert track.direction == LEAVING
    (track,) = run([[plate(800, "4253УБГ")]] * 5)
    assert track.direction == STATIONARY


@pytest.mark.parametrize("frames, kw, expected", [
    # read once: junk by default, reported with min_reads=1
    ([[plate(100, "4253УБГ")]], {}, []),
    ([[plate(100, "4253УБГ")]], {"min_reads": 1}, ["4253УБГ"]),
    # text that never fits the grammar: only with report_unmatched
    ([[plate(100, "ҮУ8УЛ", pattern=False)]] * 3, {}, []),
    ([[plate(100, "ҮУ8УЛ", pattern=False)]] * 3, {"report_unmatched": True}, ["ҮУ8УЛ"]),
])
def test_junk_tracks_are_not_reported(frames, kw, expected):
    assert [t.text for t in run(frames, **kw)] == expected


def test_the_best_read_and_its_payload_are_kept():
    frames = [[plate(100 + i, "4253УБГ", conf=c)] for i, c in enumerate([0.6, 0.95, 0.7])]
    (track,) = run(frames)
    assert track.best.confidence == 0.95 and track.payload == 1 and track.best_frame == 1


def test_seen_reports_a_track_once_before_it_ends():
    tracker = PlateTracker(seen=True, max_missed=1)
    out = [t for i in range(4) for t in tracker.update(i, [plate(100, "4253УБГ")], stamp=i)]
    assert [(t.text, t.ended, t.frames) for t in out] == [("4253УБГ", False, 2)]
    out = [t for i in range(4, 7) for t in tracker.update(i, [], stamp=i)]
    assert [(t.text, t.ended, t.frames) for t in out] == [("4253УБГ", True, 4)]


@pytest.mark.parametrize("a, b, d", [("4253УБГ", "4253УБГ", 0), ("4253УБГ", "4258УБГ", 1),
                                     ("4253УБГ", "253УБГ", 1), ("", "УБГ", 3)])
def test_edit_distance(a, b, d):
    assert edit_distance(a, b) == d


def test_a_track_read_for_hours_keeps_bounded_state():
    from edge_alpr.tracking import _KEPT_TEXTS, _VOTED_TEXTS

    tracker = PlateTracker()
    junk = [f"{i:04d}АА" for i in range(500)]
    for i in range(3000):  # a parked car: its plate, and now and then a misread
        read = plate(100, junk[i // 6], pattern=False) if i % 6 == 5 else plate(100, "4253УБГ")
        tracker.update(i, [read], stamp=float(i), payload=i)
    (track,) = tracker._open
    assert len(track.votes) <= _VOTED_TEXTS and len(track.best) <= _KEPT_TEXTS
    (done,) = tracker.finish()
    assert done.text == "4253УБГ" and done.frames == 3000 and done.direction == STATIONARY


def test_a_misread_where_the_view_jumps_does_not_split_the_track():
    # The small plate: read, then the view jumps 2 plate widths and that frame's read is
    # wrong by 3 characters (a new track there), then read right again at the new place.
    frames = ([[plate(1000, "9081ХӨР", w=75)]] * 5 + [[plate(1150, "9ПХӨР", pattern=False,
                                                             w=75)]]
              + [[plate(1150, "9081ХӨР", w=75)]] * 5)
    (track,) = run(frames)
    assert (track.text, track.frames, track.first_frame, track.last_frame) == (
        "9081ХӨР", 11, 0, 10)


def test_two_vehicles_with_different_plates_one_after_the_other_stay_two():
    frames = [[plate(1000, "9081ХӨР")]] * 4 + [[plate(1000, "4253УБГ")]] * 4
    assert [t.text for t in run(frames)] == ["9081ХӨР", "4253УБГ"]
