import csv

import numpy as np
import pytest

from edge_alpr.annotations import ONE_ROW, TWO_ROW, load_dataset, read_voc
from edge_alpr.errors import AnnotationError
from edge_alpr.rows import assign_rows
from export.data import DATA_DIR, car_groups, split

pytestmark = []


@pytest.fixture(scope="module")
def dataset():
    return load_dataset(DATA_DIR)


@pytest.mark.data
def test_loader_reads_52_plates_over_48_photos_matching_plates_csv(dataset):
    assert len(dataset) == 48
    plates = [(p.name, pl) for p in dataset for pl in p.plates]
    assert len(plates) == 52
    with open(DATA_DIR / "plates.csv", encoding="utf-8") as f:
        truth = sorted((r["image"], r["text"], r["layout"]) for r in csv.DictReader(f))
    assert sorted((n, pl.text, pl.layout) for n, pl in plates) == truth
    for _, pl in plates:
        # The XML's character boxes, read in order, spell the CSV's text.
        assert "".join(c.label for c in pl.chars) == pl.text
        assert all(pl.box.contains_point(*c.box.center) for c in pl.chars)


@pytest.mark.data
def test_split_keeps_each_car_on_one_side(dataset):
    train, val = split(dataset)
    assert len(train) + len(val) == 48
    assert 0.2 <= len(val) / 48 <= 0.3
    texts = lambda ps: {pl.text for p in ps for pl in p.plates}  # noqa: E731
    assert not texts(train) & texts(val)
    assert {pl.layout for p in val for pl in p.plates} == {ONE_ROW, TWO_ROW}
    assert split(dataset) == (train, val)  # deterministic


@pytest.mark.data
def test_frames_of_the_same_car_are_grouped(dataset):
    groups = [{p.name for p in g} for g in car_groups(dataset)]
    for same in ({"10.jpg", "12.jpg"}, {"11.jpg", "13.jpg"}, {"18.jpg", "19.jpg", "20.jpg"}):
        assert any(same <= g for g in groups)


@pytest.mark.parametrize("angle_deg", [-20, 0, 12, 25])
@pytest.mark.parametrize("two_rows", [False, True])
def test_assign_rows_handles_tilt(angle_deg, two_rows):
    if two_rows:
        pts = [(x, 0.0) for x in (0, 22, 44, 66)] + [(x, 40.0) for x in (10, 33, 56)]
    else:
        pts = [(x, 0.0) for x in (0, 22, 44, 66, 110, 132, 154)]
    a = np.deg2rad(angle_deg)
    cx = np.array([x * np.cos(a) - y * np.sin(a) for x, y in pts])
    cy = np.array([x * np.sin(a) + y * np.cos(a) for x, y in pts])
    rows = assign_rows(cx, cy, np.full(7, 34.0))
    expected = [0, 0, 0, 0, 1, 1, 1] if two_rows else [0] * 7
    assert rows.tolist() == expected


@pytest.mark.parametrize("content, problem", [
    ("<annotation><object><name>plate</name></object></annotation>", "without bndbox"),
    ("<annotation><object><name>zz</name><bndbox><xmin>1</xmin><ymin>1</ymin>"
     "<xmax>5</xmax><ymax>5</ymax></bndbox></object></annotation>", "unknown object name"),
    ("<annotation><object", "unclosed token"),
])
def test_bad_voc_names_the_file_and_problem(tmp_path, content, problem):
    path = tmp_path / "x.xml"
    path.write_text(content)
    with pytest.raises(AnnotationError, match=problem) as err:
        read_voc(path)
    assert str(path) in str(err.value)
