from pathlib import Path

from edge_alpr.inputs import expand


def test_expand_files_dirs_and_globs_in_order(tmp_path: Path):
    (tmp_path / "d" / "sub").mkdir(parents=True)
    for name in ("d/b.JPG", "d/a.png", "d/sub/c.jpeg", "d/notes.txt", "x.jpg", "y.jpg"):
        (tmp_path / name).write_bytes(b"")
    got = list(expand([str(tmp_path / "y.jpg"), str(tmp_path / "d"), str(tmp_path / "x*.jpg"),
                       str(tmp_path / "y.jpg"), str(tmp_path / "missing.jpg")]))
    rel = [p.relative_to(tmp_path).as_posix() for p in got]
    # Directories recurse and keep images of any case; duplicates once; a missing path is kept
    # so it can be reported.
    assert rel == ["y.jpg", "d/a.png", "d/b.JPG", "d/sub/c.jpeg", "x.jpg", "missing.jpg"]
