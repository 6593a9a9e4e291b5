"""benchmarks.providers compares a configuration's reads with a reference's: what it counts
decides whether a GPU run is reported as reading like the CPU."""

from dataclasses import replace

import pytest

from benchmarks.providers import agreement, main
from edge_alpr.bench import sample_frames
from edge_alpr.geometry import Box
from edge_alpr.pipeline import PlateReader

SCENE = sample_frames()[0]


@pytest.fixture(scope="module")
def reads():
    from edge_alpr.image import read_gray

    plates = PlateReader(threads=1).read(read_gray(SCENE))
    assert len(plates) == 2
    return plates


def test_identical_reads_agree(reads):
    a = agreement([reads, []], [reads, []])
    assert (a.frames, a.same_texts, a.box_px, a.confidence) == (2, 2, 0.0, 0.0)


def test_a_different_text_a_moved_box_and_a_confidence_are_each_counted(reads):
    first, second = reads
    b = first.box
    moved = replace(first, box=Box(b.x0 + 1.5, b.y0, b.x1, b.y1 - 0.5),
                    confidence=first.confidence - 0.25)
    misread = replace(second, text=second.text[:-1] + "А")
    a = agreement([[moved, misread], [first]], [[first, second], []])
    assert a.same_texts == 0  # frame 1 reads another text, frame 2 an extra plate
    assert a.box_px == pytest.approx(1.5) and a.confidence == pytest.approx(0.25)


def test_the_benchmark_runs_the_cpu_against_itself_and_reads_alike(capsys):
    assert main([str(SCENE), "--provider", "cpu", "--precision", "fp32", "--rounds", "1",
                 "--threads", "1"]) == 0
    out = capsys.readouterr().out
    assert "cpu/fp32: detector CPU, plate_check CPU, chars CPU, plate_ocr CPU" in out
    assert "| cpu/fp32 |" in out and "| 1/1 | 0 | 0 |" in out
