"""Photos, findings, gas videos and their analyses.

Uploads are streamed to a temporary file in the target folder, fsynced, renamed to their
content's SHA-256 (never the user's file name) and only then given a row: a crash leaves
either nothing or an orphan file (``admin verify`` reports it, ``--fix-orphans`` removes it),
never a row without its file. The type is checked by content, not by name.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import re
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from plantwatch.errors import InputError
from plantwatch.jsonutil import jsonable
from plantwatch.store import audit
from plantwatch.store.access import (
    Actor,
    actor_of,
    clean_text,
    get_row,
    store_of,
)
from plantwatch.store.db import Store, write_lock
from plantwatch.store.models import (
    DEFECTS,
    Finding,
    GasAnalysis,
    GasVideo,
    Photo,
    Plan,
    Site,
    utcnow,
)

__all__ = [
    "PHOTO_TYPES",
    "SEVERITY_NAMES",
    "VIDEO_TYPES",
    "add_finding",
    "add_gas_video",
    "add_photo",
    "analysis_dir",
    "claim_next_analysis",
    "fail_analysis",
    "finish_analysis",
    "fsync_dir",
    "queue_analysis",
    "start_analysis",
]

_CHUNK = 1 << 20

# finding severities: 1 (cosmetic, note it) .. 5 (critical, act now); names accepted too
# The four-step scale of data/inspection/defects.yaml (the UI, the report and the conventional-
# inspection list use it; tests/store/test_files.py checks that the two agree).
SEVERITY_NAMES: dict[str, int] = {"observe": 1, "plan_repair": 2, "inspect_by_hand": 3, "urgent": 4}

# accepted upload types: name -> (extension, test on the first bytes)
PHOTO_TYPES: dict[str, tuple[str, Callable[[bytes], bool]]] = {
    "image/jpeg": (".jpg", lambda h: h.startswith(b"\xff\xd8\xff")),
    "image/png": (".png", lambda h: h.startswith(b"\x89PNG\r\n\x1a\n")),
    "image/tiff": (".tif", lambda h: h[:4] in (b"II*\x00", b"MM\x00*")),
}
VIDEO_TYPES: dict[str, tuple[str, Callable[[bytes], bool]]] = {
    "video/quicktime": (".mov", lambda h: h[4:8] == b"ftyp" and h[8:12] == b"qt  "),
    "video/mp4": (".mp4", lambda h: h[4:8] == b"ftyp"),
    "video/x-msvideo": (".avi", lambda h: h[:4] == b"RIFF" and h[8:12] == b"AVI "),
    "video/x-matroska": (".mkv", lambda h: h.startswith(b"\x1a\x45\xdf\xa3")),
    "image/tiff": (".tif", lambda h: h[:4] in (b"II*\x00", b"MM\x00*")),
    "application/x-npy": (".npy", lambda h: h.startswith(b"\x93NUMPY")),
}


@dataclass(frozen=True)
class _Stored:
    file: str  # relative to data_dir
    sha256: str
    size_bytes: int
    media_type: str


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _source(src: str | Path | IO[bytes], field: str) -> Iterator[IO[bytes]]:
    if isinstance(src, str | Path):
        try:
            handle = open(src, "rb")  # closed by the with below
        except FileNotFoundError:
            raise InputError(f"no such file: {str(src)!r}", field=field) from None
        except OSError as exc:
            raise InputError(f"cannot read {str(src)!r}: {exc.strerror}", field=field) from None
        with handle:
            yield handle
    else:
        yield src


def _clean_name(original_name: str | None) -> str:
    """The user's file name for display only: last path component, no control characters."""
    name = re.split(r"[\\/]", str(original_name or ""))[-1]
    name = "".join(ch for ch in name if ch.isprintable())
    return name.strip()[:255]


def _ingest(
    store: Store,
    src: str | Path | IO[bytes],
    folder: str,
    types: Mapping[str, tuple[str, Callable[[bytes], bool]]],
    max_bytes: int | None,
    field: str,
) -> _Stored:
    """Copy an upload into ``files/<folder>/<aa>/<sha256><ext>`` atomically (see module doc)."""
    root = store.files_dir / folder
    root.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=root, prefix=".upload-", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        size = 0
        head = b""
        with os.fdopen(fd, "wb") as out, _source(src, field) as inp:
            while chunk := inp.read(_CHUNK):
                size += len(chunk)
                if max_bytes is not None and size > max_bytes:
                    raise InputError(
                        f"is larger than the limit of {max_bytes / 1e6:g} MB", field=field
                    )
                if len(head) < 64:
                    head += chunk[: 64 - len(head)]
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if size == 0:
            raise InputError("is empty", field=field)
        media_type = next((name for name, (_, test) in types.items() if test(head)), None)
        if media_type is None:
            raise InputError(
                f"is not an accepted file type; accepted: {', '.join(types)}", field=field
            )
        sha = digest.hexdigest()
        final = root / sha[:2] / f"{sha}{types[media_type][0]}"
        final.parent.mkdir(exist_ok=True)
        os.replace(tmp, final)
        fsync_dir(final.parent)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return _Stored(store.relative(final), sha, size, media_type)


def add_photo(
    s: Session,
    store: Store,
    src_path: str | Path | IO[bytes],
    original_name: str | None,
    by: Actor,
    site_id: int | None = None,
    plan_id: int | None = None,
    *,
    meta: Mapping[str, Any] | None = None,
    facility_key: str | None = None,
    taken_at: dt.datetime | None = None,
    max_bytes: int | None = None,
) -> Photo:
    """Store an inspection photo (JPEG, PNG or TIFF, checked by content).

    Parameters
    ----------
    src_path
        The upload: a path or an open binary stream (read to the end).
    original_name
        The user's file name, kept for display only.
    meta
        What :mod:`plantwatch.drone.photos` read from the photo (EXIF/XMP, GSD, facility).
    max_bytes
        Refuse larger uploads (nothing is kept then).
    """
    actor, _ = actor_of(s, by, "photo.add")
    if site_id is not None:
        get_row(s, Site, site_id, "site")
    if plan_id is not None:
        get_row(s, Plan, plan_id, "plan")
    stored = _ingest(store, src_path, "photos", PHOTO_TYPES, max_bytes, "photo")
    write_lock(s)
    photo = Photo(
        site_id=site_id,
        plan_id=plan_id,
        file=stored.file,
        original_name=_clean_name(original_name),
        sha256=stored.sha256,
        size_bytes=stored.size_bytes,
        media_type=stored.media_type,
        meta_json=jsonable(dict(meta or {})),
        facility_key=clean_text(facility_key, "facility_key", max_len=64) or None,
        taken_at=taken_at,
        uploaded_by=actor,
    )
    s.add(photo)
    s.flush()
    audit.record(
        s,
        actor,
        "photo.add",
        "photo",
        photo.id,
        {"file": photo.file, "sha256": photo.sha256, "original_name": photo.original_name},
    )
    return photo


def _severity(value: object) -> int:
    if isinstance(value, str):
        key = value.strip().lower()
        if key in SEVERITY_NAMES:
            return SEVERITY_NAMES[key]
        if key.isdigit():
            value = int(key)
    top = max(SEVERITY_NAMES.values())
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= top:
        return value
    raise InputError(
        f"must be 1..{top} or one of {', '.join(SEVERITY_NAMES)}, got {value!r}", field="severity"
    )


def _region(region: Mapping[str, Any]) -> dict[str, float]:
    if not isinstance(region, Mapping):
        raise InputError("must be {x, y, w, h} in photo pixels", field="region")
    out: dict[str, float] = {}
    for key in ("x", "y", "w", "h"):
        value = region.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            try:
                value = float(value)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                raise InputError(
                    f"must be a number [px], got {value!r}", field=f"region.{key}"
                ) from None
        number = float(value)
        if not (number >= 0.0 and number < 1e6) or (key in ("w", "h") and number <= 0.0):
            raise InputError(
                f"must be {'> 0' if key in ('w', 'h') else '>= 0'} [px], got {value!r}",
                field=f"region.{key}",
            )
        out[key] = number
    return out


def add_finding(
    s: Session,
    photo_id: int,
    defect: str,
    severity: int | str,
    region: Mapping[str, Any],
    note: str,
    by: Actor,
    facility_key: str | None = None,
) -> Finding:
    """Record a defect the inspector marked on a photo.

    Parameters
    ----------
    defect
        One of :data:`~plantwatch.store.models.DEFECTS`.
    severity
        1..4 or its id ``observe``/``plan_repair``/``inspect_by_hand``/``urgent``
        (:data:`SEVERITY_NAMES`, the scale of ``defects.yaml``).
    region
        ``{x, y, w, h}`` [px] on the photo.
    facility_key
        Default: the photo's facility.
    """
    actor, _ = actor_of(s, by, "finding.add")
    if defect not in DEFECTS:
        raise InputError(f"unknown defect {defect!r}; valid: {', '.join(DEFECTS)}", field="defect")
    level = _severity(severity)
    box = _region(region)
    text = clean_text(note, "note", max_len=5000)
    write_lock(s)
    photo = get_row(s, Photo, photo_id, "photo")
    finding = Finding(
        photo_id=photo.id,
        facility_key=clean_text(facility_key, "facility_key", max_len=64) or photo.facility_key,
        defect=defect,
        severity=level,
        region_json=box,
        note=text,
        created_by=actor,
    )
    s.add(finding)
    s.flush()
    audit.record(
        s,
        actor,
        "finding.add",
        "finding",
        finding.id,
        {"photo_id": photo.id, "defect": defect, "severity": level, "region": box, "note": text},
    )
    return finding


def add_gas_video(
    s: Session,
    store: Store,
    src_path: str | Path | IO[bytes],
    original_name: str | None,
    by: Actor,
    site_id: int | None = None,
    facility_key: str | None = None,
    *,
    max_bytes: int | None = None,
) -> GasVideo:
    """Store a gas-camera clip (MP4/MOV/AVI/MKV, TIFF stack or NumPy ``.npy``, by content)."""
    actor, _ = actor_of(s, by, "gas_video.add")
    if site_id is not None:
        get_row(s, Site, site_id, "site")
    stored = _ingest(store, src_path, "gas_videos", VIDEO_TYPES, max_bytes, "video")
    write_lock(s)
    video = GasVideo(
        site_id=site_id,
        facility_key=clean_text(facility_key, "facility_key", max_len=64) or None,
        file=stored.file,
        original_name=_clean_name(original_name),
        sha256=stored.sha256,
        size_bytes=stored.size_bytes,
        media_type=stored.media_type,
        uploaded_by=actor,
    )
    s.add(video)
    s.flush()
    audit.record(
        s,
        actor,
        "gas_video.add",
        "gas_video",
        video.id,
        {"file": video.file, "sha256": video.sha256, "original_name": video.original_name},
    )
    return video


def analysis_dir(store: Store, analysis_id: int) -> Path:
    """Folder for an analysis's outputs (overlay video, heatmap), created:
    ``files/analyses/<id>``."""
    folder = store.files_dir / "analyses" / str(int(analysis_id))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def queue_analysis(s: Session, gas_video_id: int, by: Actor) -> GasAnalysis:
    """Queue an analysis of a gas video (the background worker picks it up)."""
    actor, _ = actor_of(s, by, "analysis.queue")
    write_lock(s)
    video = get_row(s, GasVideo, gas_video_id, "gas_video")
    analysis = GasAnalysis(gas_video_id=video.id, status="queued", created_by=actor)
    s.add(analysis)
    s.flush()
    audit.record(
        s, actor, "analysis.queue", "gas_analysis", analysis.id, {"gas_video_id": video.id}
    )
    return analysis


def _move_analysis(
    s: Session,
    analysis_id: int,
    by: Actor,
    allowed_from: str,
    status: str,
    payload: Mapping[str, Any],
    update: Callable[[GasAnalysis], None],
) -> GasAnalysis:
    actor, _ = actor_of(s, by, "analysis.run")
    write_lock(s)
    analysis = get_row(s, GasAnalysis, analysis_id, "gas_analysis")
    if analysis.status != allowed_from:
        raise InputError(
            f"analysis {analysis.id} is {analysis.status}; only a {allowed_from} one can be "
            f"marked {status}",
            field="status",
        )
    analysis.status = status
    update(analysis)
    s.flush()
    audit.record(s, actor, f"analysis.{status}", "gas_analysis", analysis.id, dict(payload))
    return analysis


def start_analysis(s: Session, analysis_id: int, by: Actor = None) -> GasAnalysis:
    """Mark a queued analysis running (the worker calls this before it starts)."""

    def update(a: GasAnalysis) -> None:
        a.started_at = utcnow()

    return _move_analysis(s, analysis_id, by, "queued", "running", {}, update)


def claim_next_analysis(s: Session, by: Actor = None) -> GasAnalysis | None:
    """The oldest queued analysis, marked running; ``None`` when the queue is empty."""
    write_lock(s)
    next_id = s.execute(
        select(GasAnalysis.id).where(GasAnalysis.status == "queued").order_by(GasAnalysis.id)
    ).scalar()
    return None if next_id is None else start_analysis(s, next_id, by)


def _output(store: Store, path: str | Path | None, field: str) -> str | None:
    if path is None:
        return None
    absolute = store.path(path) if not Path(path).is_absolute() else Path(path)
    if not absolute.is_file():
        raise InputError(f"no such file: {str(path)!r}", field=field)
    return store.relative(absolute)


def finish_analysis(
    s: Session,
    analysis_id: int,
    result: Mapping[str, Any],
    overlay_file: str | Path | None = None,
    heatmap_file: str | Path | None = None,
    by: Actor = None,
    *,
    store: Store | None = None,
) -> GasAnalysis:
    """Store a running analysis's result (JSON) and output files (inside the data directory,
    e.g. :func:`analysis_dir`)."""
    st = store_of(s, store)
    overlay = _output(st, overlay_file, "overlay_file")
    heatmap = _output(st, heatmap_file, "heatmap_file")
    data = jsonable(dict(result))

    def update(a: GasAnalysis) -> None:
        a.result_json = data
        a.overlay_file = overlay
        a.heatmap_file = heatmap
        a.finished_at = utcnow()

    payload = {"result": data, "overlay_file": overlay, "heatmap_file": heatmap}
    return _move_analysis(s, analysis_id, by, "running", "done", payload, update)


def fail_analysis(s: Session, analysis_id: int, error: str, by: Actor = None) -> GasAnalysis:
    """Mark a running analysis failed with a one-line reason."""
    message = clean_text(error, "error", max_len=2000) or "failed"

    def update(a: GasAnalysis) -> None:
        a.error = message
        a.finished_at = utcnow()

    return _move_analysis(s, analysis_id, by, "running", "failed", {"error": message}, update)
