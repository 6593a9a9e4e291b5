"""The ``edge-alpr`` command. The only module that configures logging and prints."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, TypeVar

import numpy as np
import typer

from .batch import MAX_WORKERS, batch_settings, read_files
from .errors import EdgeAlprError
from .inputs import expand
from .models import AUTO, FP32, PRECISION_CHOICES
from .pipeline import DEFAULT_READER, MIN_CHARS, READERS, PlateReader, PlateResult
from .records import image_record
from .session import PROVIDERS, TRT_CACHE_ENV, lean_malloc, reuse_malloc

T = TypeVar("T")


def _check_providers(names: list[str] | None) -> list[str] | None:
    """Unknown execution provider names are a usage error (exit 2), named with the allowed."""
    unknown = [n for n in names or () if n.lower() not in PROVIDERS]
    if unknown:
        raise typer.BadParameter(f"unknown provider(s) {', '.join(unknown)}; "
                                 f"allowed: {', '.join(PROVIDERS)}")
    return names


Providers = Annotated[list[str] | None, typer.Option(
    "--provider", help=f"Execution provider, in order of preference: {', '.join(PROVIDERS)}.",
    callback=_check_providers)]

Precision = Annotated[str, typer.Option(
    "--precision", help=f"Model precision: {', '.join(PRECISION_CHOICES)} (auto: per model, "
    "what runs faster on this CPU; `edge-alpr info` shows the choice).")]

Fp32 = Annotated[bool, typer.Option("--fp32", hidden=True, help="Same as --precision fp32.")]

def _reader(name: str) -> str:
    """An unknown --reader is a usage error (exit 2), named with the allowed."""
    if name not in READERS:
        raise typer.BadParameter(f"{name!r}; choose from {', '.join(READERS)}")
    return name


Reader = Annotated[str, typer.Option(
    "--reader", help=f"How a plate is read: {', '.join(READERS)} (segments: segmentation and "
    "character CNN; whole: the whole-plate recognizer; both: the whole-plate reading, and the "
    "segmentation where it is unsure).", callback=_reader)]


def _precision(precision: str, fp32: bool) -> str:
    """--precision, with the old --fp32 as its alias; an unknown value is a usage error."""
    if precision not in PRECISION_CHOICES:
        raise typer.BadParameter(f"{precision!r}; choose from {', '.join(PRECISION_CHOICES)}",
                                 param_hint="--precision")
    if fp32 and precision not in (AUTO, FP32):
        raise typer.BadParameter(f"--fp32 (an alias of --precision fp32) contradicts "
                                 f"--precision {precision}", param_hint="--fp32")
    return FP32 if fp32 else precision


Lean = Annotated[bool, typer.Option(
    "--lean", help="Kiosk profile: no memory kept between frames (lower peak RSS, same "
    "results; see the README's Deployment section).")]

ReportUnmatched = Annotated[bool, typer.Option(
    "--report-unmatched", help="Also report tracks whose text does not fit the plate grammar.")]

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Read Mongolian licence plates on small CPUs.")


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    if not verbose:  # a file OpenCV cannot decode is reported on its own line, once
        import cv2

        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)


@app.command()
def read(
    paths: Annotated[list[str], typer.Argument(help="Image files, directories or globs.")],
    json_lines: Annotated[bool, typer.Option("--json", help="One JSON line per image.")] = False,
    threads: Annotated[int | None, typer.Option(
        min=1, help="Intra-op threads per model (default: 1 with several workers, else one "
        "per core).")] = None,
    workers: Annotated[int | None, typer.Option(
        min=1, help="Files decoded and read at once, sharing one reader (default: one per "
        f"CPU, at most {MAX_WORKERS}; 1 with --lean).")] = None,
    provider: Providers = None,
    precision: Precision = AUTO,
    fp32: Fp32 = False,
    reader_name: Reader = DEFAULT_READER,
    out: Annotated[Path | None, typer.Option(help="Write annotated copies here.")] = None,
    min_chars: Annotated[int, typer.Option(
        min=0, help="Report plates read as at least this many characters.")] = MIN_CHARS,
    lean: Lean = False,
) -> None:
    """Read the plates in images, one line per image in input order. Exit code 0 when every
    image was read, 1 when some failed."""
    precision = _precision(precision, fp32)
    files = list(expand(paths))
    if not files:
        raise typer.BadParameter("no input images", param_hint="PATHS")
    _set_malloc(lean)
    workers, threads = batch_settings(len(files), workers, threads, lean)
    reader = PlateReader(providers=tuple(provider or ("cpu",)), threads=threads,
                         precision=precision, min_chars=min_chars, lean=lean,
                         reader=reader_name)
    failed = 0
    taken = {p.resolve() for p in files}  # never write over an input
    reads = read_files(reader, files, workers, keep_images=out is not None)
    for done in _progress(reads, len(files)):
        if done.error is not None:
            failed += 1
            _emit(json_lines, {"image": str(done.path), "error": done.error})
            continue
        record = image_record(str(done.path), done.width, done.height, done.plates,
                              done.seconds)
        if out is not None:
            try:
                record["annotated"] = str(_write_annotated(out, done.path, done.image,
                                                           list(done.plates), taken))
            except OSError as e:
                failed += 1
                record["error"] = f"annotated copy not written: {e}"
        _emit(json_lines, record)
    raise typer.Exit(1 if failed else 0)


@app.command()
def video(
    source: Annotated[str, typer.Argument(help="Video file, camera index (0, 1, ...) or URL.")],
    every: Annotated[int, typer.Option(min=1, help="Read every Nth frame.")] = 1,
    threads: Annotated[int | None, typer.Option(help="Intra-op threads per model.")] = None,
    provider: Providers = None,
    precision: Precision = AUTO,
    fp32: Fp32 = False,
    reader_name: Reader = DEFAULT_READER,
    lean: Lean = False,
    report_unmatched: ReportUnmatched = False,
) -> None:
    """Track plates through a video; one JSON line per plate track, its text voted."""
    precision = _precision(precision, fp32)
    import cv2

    from .tracking import PlateTracker

    capture = cv2.VideoCapture(int(source) if source.isdigit() else source)
    if not capture.isOpened():
        print(json.dumps({"source": source, "error": "cannot be opened as a video"}))
        raise typer.Exit(1)
    _set_malloc(lean)
    reader = PlateReader(providers=tuple(provider or ("cpu",)), threads=threads,
                         precision=precision, lean=lean, reader=reader_name)
    tracker = PlateTracker(report_unmatched=report_unmatched)
    frame_index = -1
    try:
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            frame_index += 1
            if frame_index % every:
                continue
            for track in tracker.update(frame_index, reader.read(frame)):
                print(json.dumps(track.to_dict(), ensure_ascii=False), flush=True)
    except KeyboardInterrupt:
        pass  # Ctrl-C ends the stream: report the open tracks as at its end
    finally:
        capture.release()
    for track in tracker.finish():
        print(json.dumps(track.to_dict(), ensure_ascii=False), flush=True)


@app.command()
def watch(
    config: Annotated[Path, typer.Argument(help="Watch configuration (TOML); see "
                                           "deploy/watch.example.toml.")],
    http: Annotated[str | None, typer.Option(
        help="Serve the page of events here, HOST:PORT (e.g. 127.0.0.1:8090).")] = None,
    report_unmatched: ReportUnmatched = False,
    seen: Annotated[bool, typer.Option(
        "--seen", help="Also an event when a vehicle is first read (for barriers).")] = False,
) -> None:
    """Read cameras and report one event per vehicle pass to the configured outputs.
    Needs the watch extra (README: Watch cameras)."""
    logging.getLogger("edge_alpr.watch").setLevel(logging.INFO)  # the event log, on stderr
    from .watch.app import run

    try:
        code = run(str(config), http, report_unmatched, seen)
    except (EdgeAlprError, ImportError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        raise typer.Exit(2 if isinstance(e, ValueError) else 1) from e
    raise typer.Exit(code)


@app.command()
def reads(
    db: Annotated[Path, typer.Argument(help="Reads log (SQLite) written by edge-alpr watch.")],
    plate: Annotated[str, typer.Option(help="Plate or part of it (look-alikes folded).")] = "",
    camera: Annotated[str, typer.Option(help="Camera name.")] = "",
    since: Annotated[str, typer.Option(help="From this UTC time, ISO 8601.")] = "",
    until: Annotated[str, typer.Option(help="Until this UTC time, ISO 8601.")] = "",
    limit: Annotated[int, typer.Option(min=0, help="At most this many (0: all).")] = 100,
    csv_out: Annotated[Path | None, typer.Option(
        "--csv", help="Write CSV here ('-': stdout) instead of JSON lines; never overwrites.")
    ] = None,
) -> None:
    """Query the reads log: JSON lines (newest first) or CSV (oldest first)."""
    import csv
    from dataclasses import replace

    from .watch.readslog import CSV_COLUMNS, Query, ReadsLog

    try:
        q = Query(plate=plate, camera=camera, since=since, until=until, limit=limit)
        log = ReadsLog(db, readonly=True)
        if csv_out is None:
            for event in log.query(replace(q, limit=limit or 10**9)):
                print(json.dumps(event, ensure_ascii=False))
            return
        if str(csv_out) != "-" and csv_out.exists():
            print(f"error: {csv_out} exists; not overwritten", file=sys.stderr)
            raise typer.Exit(1)
        with (open(csv_out, "x", newline="", encoding="utf-8") if str(csv_out) != "-"
              else open(sys.stdout.fileno(), "w", newline="", encoding="utf-8",
                        closefd=False)) as f:
            writer = csv.writer(f)
            writer.writerow(CSV_COLUMNS)
            writer.writerows(log.rows(q))
    except EdgeAlprError as e:
        print(f"error: {e}", file=sys.stderr)
        raise typer.Exit(1) from e


def _write_annotated(out: Path, path: Path, image: np.ndarray, plates: list[PlateResult],
                     taken: set[Path]) -> Path:
    """Save an annotated copy as ``OUT/<name>.alpr.<ext>``, never over a path in ``taken``
    (the inputs and the copies written so far), which it then joins."""
    import cv2

    from .draw import annotate

    out.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower() if path.suffix.lower() in (".jpg", ".jpeg", ".png") else ".png"
    target, n = out / f"{path.stem}.alpr{suffix}", 1
    while target.resolve() in taken:
        target, n = out / f"{path.stem}.alpr-{n}{suffix}", n + 1
    if not cv2.imwrite(str(target), annotate(image, plates)):
        raise OSError(f"{target}: could not be written")
    taken.add(target.resolve())
    return target


@app.command()
def info(
    json_out: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
    provider: Providers = None,
    precision: Precision = AUTO,
    fp32: Fp32 = False,
    reader_name: Reader = DEFAULT_READER,
) -> None:
    """Versions, execution providers (available, and in use by a reader loaded with
    --provider and --precision), what model each stage runs, and the bundled models with their
    checksums."""
    precision = _precision(precision, fp32)
    import os
    import platform
    from importlib.metadata import PackageNotFoundError, version

    import cv2
    import numpy
    import onnxruntime

    from .models import PRECISIONS, ROLES, bundled_model, int8_dot_product

    try:
        ours = version("edge-alpr")
    except PackageNotFoundError:  # run from a checkout on PYTHONPATH
        ours = "not installed (source checkout)"
    available = onnxruntime.get_available_providers()
    report: dict = {
        "edge_alpr": ours, "python": platform.python_version(),
        "machine": platform.machine(),
        # The modules' own versions: onnxruntime may come as onnxruntime-gpu (or NVIDIA's
        # Jetson build), whose distribution name is not "onnxruntime".
        "packages": {"onnxruntime": onnxruntime.__version__, "opencv": cv2.__version__,
                     "numpy": numpy.__version__},
        "providers": {name: ort in available for name, ort in PROVIDERS.items()},
        "in_use": {},
        "precision": {"asked": precision, "int8_dot_product": int8_dot_product(), "runs": {}},
        # numba is gone (pyproject.toml): nothing is compiled, nor cached, at run time.
        "jit": None,
        "trt_engine_cache": os.environ.get(TRT_CACHE_ENV),
        "models": {},
    }
    try:
        reader = PlateReader(providers=tuple(provider or ("cpu",)), precision=precision,
                             reader=reader_name)
        for role, m in reader.models.items():
            report["in_use"][m.path.name] = list(m.providers)
            report["precision"]["runs"][role] = {"precision": reader.precisions[role],
                                                 "file": m.path.name}
    except EdgeAlprError as e:
        report["in_use"] = {"error": str(e)}
    for role in ROLES:
        for precision in PRECISIONS:
            try:
                m = bundled_model(role, precision)
                report["models"][m.name] = {"path": str(m.path), "sha256": m.sha256,
                                            "bytes": m.path.stat().st_size}
            except EdgeAlprError as e:
                report["models"][f"{role}_{precision}"] = {"error": str(e)}
    if json_out:
        print(json.dumps(report, indent=2))
        return
    print(f"edge-alpr {report['edge_alpr']} on Python {report['python']} "
          f"({report['machine']})")
    for name, v in report["packages"].items():
        print(f"  {name} {v}")
    print("providers: " + ", ".join(f"{n}{'' if ok else ' (unavailable)'}"
                                    for n, ok in report["providers"].items()))
    for name, used in report["in_use"].items():
        print(f"in use by the reader: {name}: " + (", ".join(used) if isinstance(used, list)
                                                    else used))
    prec = report["precision"]
    print(f"precision {prec['asked']} (int8 dot-product instructions: "
          f"{'yes' if prec['int8_dot_product'] else 'no'}): " + ", ".join(
              f"{role} {r['precision']} ({r['file']})" for role, r in prec["runs"].items()))
    print("JIT: none (nothing is compiled or cached at run time)")
    if report["trt_engine_cache"]:
        print(f"TensorRT engine cache ({TRT_CACHE_ENV}): {report['trt_engine_cache']}")
    for name, m in report["models"].items():
        print(f"model {name}: " + (m.get("error") or f"{m['sha256']}  {m['bytes']} bytes"))


@app.command("eval")
def eval_(
    source: Annotated[Path, typer.Argument(help="Pascal VOC folder or plates CSV.")],
    json_out: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
    threads: Annotated[int | None, typer.Option(help="Intra-op threads per model.")] = None,
    precision: Precision = AUTO,
    fp32: Fp32 = False,
    reader_name: Reader = DEFAULT_READER,
) -> None:
    """Detection AP50 and recall, exact plate text and character accuracy, misses listed."""
    precision = _precision(precision, fp32)
    from dataclasses import asdict

    from .evaluate import evaluate, load_annotations
    try:
        photos = load_annotations(source)
        report = evaluate(PlateReader(threads=threads, precision=precision,
                                      reader=reader_name), photos)
    except EdgeAlprError as e:
        print(f"error: {e}", file=sys.stderr)
        raise typer.Exit(1) from e
    if json_out:
        print(json.dumps({**asdict(report), "exact_rate": report.exact_rate},
                         ensure_ascii=False, indent=1))
        return
    print(f"{report.images} images, {report.plates} plates")
    print(f"detection: AP50 {report.ap50:.3f}, recall {report.recall:.3f}, "
          f"false positives {report.false_positives}")
    print(f"plates read exactly: {report.exact}/{report.plates} ({report.exact_rate:.1%}); "
          f"character accuracy {report.char_accuracy:.1%}")
    for m in report.misses:
        what = ("false positive" if not m.truth else "not found" if not m.detected
                else "misread")
        print(f"  {m.image}: {what}: truth {m.truth or '-'} read {m.read or '-'}")


@app.command()
def bench(
    images: Annotated[list[str] | None, typer.Argument(
        help="Image files, directories or globs (default: the bundled sample frames).")
    ] = None,
    runs: Annotated[int, typer.Option(min=1, help="Timed frames.")] = 50,
    warmup: Annotated[int, typer.Option(min=0, help="Untimed frames first.")] = 5,
    threads: Annotated[int | None, typer.Option(help="Intra-op threads per model.")] = None,
    provider: Providers = None,
    precision: Precision = AUTO,
    fp32: Fp32 = False,
    reader_name: Reader = DEFAULT_READER,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
    lean: Lean = False,
    folder: Annotated[Path | None, typer.Option(
        "--files", help="Also read every image of this folder as `edge-alpr read` does (decode "
        "included, default workers) and report files per second.")] = None,
) -> None:
    """Per-stage latency (p50/p95/mean), frames per second, cold start and peak memory.
    Images are decoded once, before timing; --files adds a batch with decoding."""
    precision = _precision(precision, fp32)
    from .bench import STAGES, TOTAL, sample_frames
    from .bench import bench as run_bench

    files = list(expand(images)) if images else sample_frames()
    if not files:
        raise typer.BadParameter("no input images", param_hint="IMAGES")
    batch = list(expand([str(folder)])) if folder is not None else None
    if batch is not None and (not folder.is_dir() or not batch):
        raise typer.BadParameter(f"{folder}: not a folder with images", param_hint="--files")
    _set_malloc(lean)
    try:
        result = run_bench(files, runs, warmup, threads, tuple(provider or ("cpu",)), precision,
                           lean, batch, reader_name)
    except EdgeAlprError as e:
        print(f"error: {e}", file=sys.stderr)
        raise typer.Exit(1) from e
    if json_out:
        print(json.dumps(result.to_dict(), indent=1))
        return
    print(f"{runs} runs after {warmup} warm-up over {len(files)} image(s), threads "
          f"{threads or 'default'}, {', '.join(result.providers)}, "
          + ", ".join(f"{role} {p}" for role, p in result.precisions.items())
          + (", lean" if lean else ""))
    print(f"{'stage':13s} {'p50 ms':>8s} {'p95 ms':>8s} {'mean ms':>8s}")
    for stage in (*STAGES, TOTAL):
        s = result.stages[stage]
        print(f"{stage:13s} {s.p50_ms:8.2f} {s.p95_ms:8.2f} {s.mean_ms:8.2f}")
    cold = result.cold_start
    print(f"{result.fps:.1f} frames/s (median total)")
    if result.batch is not None:
        b = result.batch
        print(f"{b.files_per_s:.1f} files/s reading {b.files} files as `read` does, decode "
              f"included ({b.workers} worker(s), threads {b.threads or 'default'}, "
              f"{b.seconds:.2f} s, {b.failed} failed)")
    print(f"cold start (import + load + first frame, median of {len(cold.runs_s)}): "
          f"{cold.median_s:.2f} s; peak RSS {cold.peak_rss_mib:.0f} MiB")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on (loopback by default).")
                    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8080,
    threads: Annotated[int, typer.Option(
        min=1, help="Frames read at once, by threads sharing one reader.")] = 2,
    queue: Annotated[int, typer.Option(
        min=0, help="Requests that may wait for a thread; beyond them: 503 + Retry-After.")
    ] = 8,
    max_body: Annotated[float, typer.Option(
        "--max-body", min=0.001, help="Largest request body, MB; larger: 413.")] = 10.0,
    token: Annotated[str | None, typer.Option(
        envvar="EDGE_ALPR_TOKEN", help="Require 'Authorization: Token TOKEN' (all but "
        "/healthz).")] = None,
    provider: Providers = None,
    precision: Precision = AUTO,
    reader_name: Reader = DEFAULT_READER,
    lean: Lean = False,
    ray: Annotated[bool, typer.Option(
        "--ray", help="Run as a Ray Serve deployment (the ray extra).")] = False,
    replicas: Annotated[int, typer.Option(min=1, help="Ray Serve replicas.")] = 1,
    ray_address: Annotated[str | None, typer.Option(
        help="Ray cluster to join (default: start a local one).")] = None,
) -> None:
    """HTTP plate reading: edge-alpr's API, the CodeProject.AI ALPR API and the Plate
    Recognizer Snapshot API (README, "HTTP service"). Needs the serve extra."""
    try:
        from .service.app import MIB, ServiceConfig
    except ImportError as e:
        print(f"error: {e}", file=sys.stderr)
        raise typer.Exit(1) from e
    if lean:
        lean_malloc()
    config = ServiceConfig(workers=threads, queue=queue, max_body=round(max_body * MIB),
                           token=token, reader_options={
                               "providers": tuple(provider or ("cpu",)),
                               "precision": _precision(precision, False), "lean": lean,
                               "reader": reader_name})
    try:
        if ray:
            from .service.ray_serve import run_ray

            run_ray(config, host, port, replicas, ray_address)
        else:
            from .service.server import serve as run_server

            run_server(config, host, port)
    except ImportError as e:
        print(f"error: {e}", file=sys.stderr)
        raise typer.Exit(1) from e
    except EdgeAlprError as e:
        print(f"error: {e}", file=sys.stderr)
        raise typer.Exit(1) from e


def _progress(items: Iterator[T], length: int) -> Iterator[T]:
    """The items, with a progress bar on stderr when it is a terminal and the batch is long
    (stdout stays one line per image)."""
    if length < 10 or not sys.stderr.isatty():
        yield from items
        return
    with typer.progressbar(items, length=length, label="reading", file=sys.stderr) as bar:
        yield from bar


def _set_malloc(lean: bool) -> None:
    """Many frames in this process: lean gives memory back after each, else it is kept for the
    next (edge_alpr.session.lean_malloc, reuse_malloc)."""
    if lean:
        lean_malloc()
    else:
        reuse_malloc()


def _emit(json_lines: bool, record: dict) -> None:
    if json_lines:
        print(json.dumps(record, ensure_ascii=False), flush=True)
    elif "plates" not in record:
        print(f"{record['image']}: error: {record['error']}", flush=True)
    elif not record["plates"]:
        print(f"{record['image']}: no plate", flush=True)
    else:
        for p in record["plates"]:
            flag = "" if p["matches_pattern"] else "  (non-standard)"
            print(f"{record['image']}: {p['text'] or '?'}  conf {p['confidence']:.2f}  "
                  f"{p['layout']}  box {p['box']}  read by {p['reader']}{flag}", flush=True)


if __name__ == "__main__":
    app()
