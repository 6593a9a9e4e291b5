"""The TensorFlow references of ``benchmarks/`` do the job edge-alpr does: on the bundled
sample frame they read the same plates."""

import pytest

from edge_alpr.bench import sample_frames
from edge_alpr.image import read_image
from edge_alpr.pipeline import PlateReader

pytest.importorskip("tensorflow", reason="needs the export extra")
pytest.importorskip("skimage", reason="needs the dev extra")


@pytest.mark.tf
def test_the_references_read_the_sample_as_edge_alpr_does():
    from benchmarks.reference import original_reader, tuned_reader

    image = read_image(sample_frames()[0])
    expected = sorted(p.text for p in PlateReader(threads=1).read(image))
    assert len(expected) == 2  # one plate of each layout
    for reader in (tuned_reader(1), original_reader(1)):
        assert sorted(p.text for p in reader.read(image)) == expected
