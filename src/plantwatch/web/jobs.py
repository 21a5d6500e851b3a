"""Gas-video analyses in the background: a small thread pool owned by the app.

An upload answers at once with a ``queued`` analysis; a worker thread moves it to ``running``,
calls :func:`plantwatch.gas.detect.detect_video` into a private work folder and hands the
outputs to the store (``finish_analysis``), or records why it failed (``fail_analysis``). The
status row is the only shared state, so the page just polls it.

After a crash, :meth:`AnalysisRunner.resume` (called at start-up) puts analyses that were
``queued`` back in the queue and runs ``running`` ones again: detection is deterministic, and
a half-written work folder is discarded before the rerun.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from plantwatch.store.db import Store

__all__ = ["WORK_DIR", "AnalysisRunner", "run_analysis"]

log = logging.getLogger("plantwatch.web.jobs")
WORK_DIR = Path("files") / ".work" / "gas"  # relative to data_dir: in-progress outputs


def _detect(video: Path, out_dir: Path) -> dict[str, Any]:
    """Run the gas detector; its JSON result (``result.json`` in ``out_dir``)."""
    from plantwatch.gas.detect import detect_video

    result = detect_video(video, out_dir)
    path = out_dir / "result.json"
    if path.is_file():
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return data
    to_json = getattr(result, "to_json", None)
    if callable(to_json):
        out = to_json()
        return out if isinstance(out, dict) else json.loads(out)
    if isinstance(result, dict):
        return result
    raise RuntimeError("the detector wrote no result.json")


def run_analysis(
    store: Store, analysis_id: int, on_change: Callable[[], None] = lambda: None
) -> None:
    """Run one analysis start to end (in the calling thread); ``on_change`` after each state
    change (the app's page cache)."""
    from plantwatch.store import service
    from plantwatch.store.models import GasAnalysis, GasVideo

    with store.session() as s:
        analysis = service.start_analysis(s, analysis_id)
        video = s.get(GasVideo, analysis.gas_video_id)
        assert video is not None
        video_path = store.path(video.file)
    on_change()
    work = store.data_dir / WORK_DIR / str(analysis_id)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    try:
        result = _detect(video_path, work)
        # the outputs move into the store's folder for this analysis only once complete
        final = service.analysis_dir(store, analysis_id)
        kept: dict[str, Path | None] = {}
        for name in ("overlay.mp4", "heatmap.png", "result.json"):
            if (work / name).is_file():
                os.replace(work / name, final / name)
                kept[name] = final / name
            else:
                kept[name] = None
        with store.session() as s:
            service.finish_analysis(
                s, analysis_id, result, kept["overlay.mp4"], kept["heatmap.png"], store=store
            )
    except Exception as exc:  # the detector's errors end up on the page, not in a traceback
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if not isinstance(exc, ImportError):
            log.warning("gas analysis %d failed: %s", analysis_id, message)
        with store.session() as s:
            current = s.get(GasAnalysis, analysis_id)
            if current is not None and current.status not in ("done", "failed"):
                service.fail_analysis(s, analysis_id, message)
    finally:
        shutil.rmtree(work, ignore_errors=True)


class AnalysisRunner:
    """Runs queued analyses on ``workers`` threads (0: never runs them)."""

    def __init__(
        self, store: Store, workers: int = 1, on_change: Callable[[], None] | None = None
    ) -> None:
        self.store = store
        self.workers = workers
        self.on_change = on_change or (lambda: None)
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._futures: dict[int, Future[None]] = {}

    def _pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(
                    max_workers=self.workers, thread_name_prefix="plantwatch-gas"
                )
            return self._executor

    def submit(self, analysis_id: int) -> None:
        if self.workers < 1:
            return
        with self._lock:
            if analysis_id in self._futures and not self._futures[analysis_id].done():
                return
        future = self._pool().submit(self._guarded, analysis_id)
        with self._lock:
            self._futures[analysis_id] = future

    def _guarded(self, analysis_id: int) -> None:
        try:
            run_analysis(self.store, analysis_id, self.on_change)
        except Exception:  # pragma: no cover - logged, the row says failed or stays queued
            log.exception("gas analysis %d crashed", analysis_id)
        finally:
            self.on_change()

    def warm_up(self) -> None:
        """Import the detector (PyTorch: seconds) on the worker thread now, so the first upload
        does not wait for it."""
        if self.workers < 1:
            return

        def load() -> None:
            try:
                import plantwatch.gas.detect  # noqa: F401
            except Exception as exc:  # reported when an analysis runs
                log.warning("gas detector not available: %s", exc)

        self._pool().submit(load)

    def resume(self) -> int:
        """After a restart: an analysis left ``running`` is marked failed ("interrupted") and
        queued again as a new analysis; every ``queued`` one is submitted. Returns how many."""
        from sqlalchemy import select

        from plantwatch.store import service
        from plantwatch.store.models import GasAnalysis

        if self.workers < 1:
            return 0
        with self.store.session() as s:
            stale = list(s.scalars(select(GasAnalysis).where(GasAnalysis.status == "running")))
            for analysis in stale:
                service.fail_analysis(s, analysis.id, "interrupted: the server stopped")
                service.queue_analysis(s, analysis.gas_video_id, None)
        with self.store.session() as s:
            ids = list(
                s.scalars(
                    select(GasAnalysis.id)
                    .where(GasAnalysis.status == "queued")
                    .order_by(GasAnalysis.id)
                )
            )
        self.on_change()
        for analysis_id in ids:
            self.submit(analysis_id)
        return len(ids)

    def wait(self, timeout_s: float | None = None) -> None:
        """Wait for every submitted analysis (tests, demo seeding)."""
        from concurrent.futures import wait

        with self._lock:
            futures = list(self._futures.values())
        wait(futures, timeout=timeout_s)

    def shutdown(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
