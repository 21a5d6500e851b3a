"""Photos, findings, gas videos and analyses: atomic uploads, safe names, orphans, crashes."""

from __future__ import annotations

import hashlib
import io
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select

from plantwatch.errors import InputError, NotFound, PermissionDenied
from plantwatch.store import service
from plantwatch.store.models import Finding, GasAnalysis, Photo

ROOT = Path(__file__).resolve().parents[2]


def jpeg(path: Path, seed: int = 0) -> Path:
    pixels = np.random.default_rng(seed).integers(0, 255, (48, 64, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path, "JPEG", quality=90)
    return path


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_photo_is_stored_under_its_hash_with_a_row(store, people, tmp_path, site_id):
    src = jpeg(tmp_path / "DJI_0001.JPG")
    with store.session() as s:
        photo = service.add_photo(
            s, store, src, "../../etc/passwd\x00.jpg", people["inspector"], site_id,
            meta={"gsd_cm": 0.5, "lat": 35.5}, facility_key="T-001",
        )  # fmt: skip
        photo_id = photo.id
    sha = hashlib.sha256(src.read_bytes()).hexdigest()
    with store.session() as s:
        photo = s.get(Photo, photo_id)
        assert photo.file == f"files/photos/{sha[:2]}/{sha}.jpg"  # safe name from the content
        assert store.path(photo.file).read_bytes() == src.read_bytes()
        assert photo.original_name == "passwd.jpg"  # display only, path parts dropped
        assert (photo.sha256, photo.size_bytes, photo.media_type) == (
            sha, src.stat().st_size, "image/jpeg")  # fmt: skip
        assert photo.meta_json == {"gsd_cm": 0.5, "lat": 35.5}
        box = {"x": 3, "y": 4, "w": 10, "h": 5}
        finding = service.add_finding(s, photo_id, "corrosion", "urgent", box, "rust", "inspector")
        assert (finding.severity, finding.facility_key) == (4, "T-001")
        unit = {"x": 0, "y": 0, "w": 1, "h": 1}
        for args, error, field in [
            ((photo_id, "dirt", 2, unit, "", "inspector"), InputError, "defect"),
            ((photo_id, "crack", 9, unit, "", "inspector"), InputError, "severity"),
            ((photo_id, "crack", 5, unit, "", "inspector"), InputError, "severity"),
            ((photo_id, "crack", "high", unit, "", "inspector"), InputError, "severity"),
            ((photo_id, "crack", 2, {**unit, "w": 0}, "", "inspector"), InputError, "region.w"),
            ((photo_id, "crack", 2, unit, "", "pilot"), PermissionDenied, None),
            ((999, "crack", 2, unit, "", "inspector"), NotFound, None),
        ]:
            with pytest.raises(error) as err:
                service.add_finding(s, *args)
            assert getattr(err.value, "field", None) == field
    with store.session() as s:
        report = service.verify_store(s, store, deep=True)
    assert report.ok and report.orphans == [], report.lines()


def test_store_severity_scale_is_the_inspection_scale():
    """The store, the web form and the report share defects.yaml's levels (1..4, same ids)."""
    from plantwatch.drone.findings import severities
    from plantwatch.store.files import SEVERITY_NAMES

    assert SEVERITY_NAMES == {sev.id: level for level, sev in severities().items()}


REFUSED = [
    (b"<html>not a photo</html>", None, "accepted file type"),
    (b"", None, "empty"),
    (b"\xff\xd8\xff" + b"0" * 5000, 1000, "larger than"),
]


def test_refused_uploads_leave_nothing(store, people):
    with store.session() as s:
        for content, limit, match in REFUSED:
            with pytest.raises(InputError, match=match) as err:
                service.add_photo(
                    s, store, io.BytesIO(content), "x.jpg", "inspector", max_bytes=limit
                )
            assert err.value.field == "photo"
        assert s.execute(select(Photo)).first() is None
    assert files_under(store.files_dir) == []


def test_crash_at_the_rename_leaves_no_row_and_no_file(store, people, tmp_path, monkeypatch):
    src = jpeg(tmp_path / "b.jpg")

    def crash(*_args: object) -> None:
        raise OSError("simulated crash at rename")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="simulated"), store.session() as s:
        service.add_photo(s, store, src, "b.jpg", people["inspector"])
    monkeypatch.undo()
    with store.session() as s:
        assert s.execute(select(Photo)).first() is None
    assert files_under(store.files_dir) == []  # no final file, no temporary file


KILL_SCRIPT = textwrap.dedent(
    """
    import os, signal, sys
    from plantwatch.store import files
    from plantwatch.store.db import Store

    store = Store.open(sys.argv[1], url=sys.argv[2] or None)
    def die(folder):  # after the file is in place, before the row is committed
        os.kill(os.getpid(), signal.SIGKILL)
    files.fsync_dir = die
    with store.session() as s:
        files.add_photo(s, store, sys.argv[3], "c.jpg", None)
    """
)


def test_killed_mid_upload_loses_nothing_committed_and_leaves_an_orphan(store, people, tmp_path):
    src = jpeg(tmp_path / "c.jpg", seed=1)
    with store.session() as s:
        kept = service.add_photo(s, store, jpeg(tmp_path / "d.jpg", seed=2), "d.jpg", "pilot").id
    url = "" if store.engine.dialect.name == "sqlite" else store.url
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(
        [sys.executable, "-c", KILL_SCRIPT, str(store.data_dir), url, str(src)],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == -signal.SIGKILL, done.stderr
    with store.session() as s:
        assert [p.id for p in s.execute(select(Photo)).scalars()] == [kept]  # committed row kept
        report = service.verify_store(s, store)
    sha = hashlib.sha256(src.read_bytes()).hexdigest()
    assert report.ok  # an orphan is not corruption ...
    assert [o.path.name for o in report.orphans] == [f"{sha}.jpg"]  # ... but it is reported
    assert service.remove_orphans(store, report.orphans, grace_s=3600) == []  # too young
    assert service.remove_orphans(store, report.orphans, grace_s=0) == [report.orphans[0].path]
    with store.session() as s:
        again = service.verify_store(s, store)
    assert again.ok and again.orphans == []


def test_missing_file_is_a_problem(store, people, tmp_path):
    with store.session() as s:
        photo = service.add_photo(s, store, jpeg(tmp_path / "e.jpg"), "e.jpg", "inspector")
    store.path(photo.file).unlink()
    with store.session() as s:
        report = service.verify_store(s, store)
    assert not report.ok
    assert report.problems == [f"photos id {photo.id}: file {photo.file} is missing"]


def test_gas_video_and_analysis_lifecycle(store, people):
    clip = np.zeros((4, 8, 8), dtype=np.float32)
    buffer = io.BytesIO()
    np.save(buffer, clip)
    buffer.seek(0)
    with store.session() as s:
        video = service.add_gas_video(s, store, buffer, "leak.npy", "inspector", None, "T-001")
        assert video.media_type == "application/x-npy" and video.file.endswith(".npy")
        analysis = service.queue_analysis(s, video.id, "inspector")
        with pytest.raises(PermissionDenied):
            service.queue_analysis(s, video.id, "pilot")
        with pytest.raises(InputError, match="queued"):
            service.finish_analysis(s, analysis.id, {}, store=store)
        claimed = service.claim_next_analysis(s)
        assert claimed is not None and claimed.id == analysis.id and claimed.status == "running"
        assert service.claim_next_analysis(s) is None
        out = service.analysis_dir(store, analysis.id)
        (out / "overlay.mp4").write_bytes(b"\x00\x00\x00\x18ftypisom")
        service.finish_analysis(s, analysis.id, {"z_pix_s": 3.5}, out / "overlay.mp4")
        second = service.queue_analysis(s, video.id, "admin")
        service.start_analysis(s, second.id)
        service.fail_analysis(s, second.id, "decoder error")
    with store.session() as s:
        done, failed = s.execute(select(GasAnalysis).order_by(GasAnalysis.id)).scalars().all()
        assert (done.status, done.result_json, done.overlay_file) == (
            "done", {"z_pix_s": 3.5}, f"files/analyses/{done.id}/overlay.mp4")  # fmt: skip
        assert done.finished_at is not None and done.started_at is not None
        assert (failed.status, failed.error) == ("failed", "decoder error")
        assert s.execute(select(Finding)).first() is None
        report = service.verify_store(s, store, deep=True)
    assert report.ok and report.orphans == [], report.lines()
