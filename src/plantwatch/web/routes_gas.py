"""Gas-camera clips: upload (MP4/AVI, 16-bit TIFF stack, .npy), background analysis by
:mod:`plantwatch.gas.detect` (:mod:`plantwatch.web.jobs`), and the result: overlay video,
heatmap with the leak source marked, the depth-flow Z and the confidence, linked to the facility
in view."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from plantwatch.errors import InputError, NotFound
from plantwatch.web.auth import SessionUser, header_csrf_ok, permission, require, session_csrf
from plantwatch.web.context import WebContext, redirect, web
from plantwatch.web.queries import gas_videos, get_or_404, latest_analysis, row_dict, site_dicts
from plantwatch.web.uploads import receive_upload, streamed_upload

router = APIRouter()

ANY = require()
UPLOADER = permission("gas_video.add")
QUEUE = permission("analysis.queue")
VIDEO_KINDS = ("mp4", "avi", "tiff", "npy")


def _png_size(path: Path) -> tuple[int, int] | None:
    """Width and height of a PNG from its IHDR chunk (PNG spec §11.2.2), without decoding."""
    try:
        with open(path, "rb") as f:
            head = f.read(24)
    except OSError:
        return None
    if len(head) < 24 or not head.startswith(b"\x89PNG\r\n\x1a\n") or head[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", head[16:24])
    return int(width), int(height)


def _queue(ctx: WebContext, user: SessionUser, video_id: int) -> int:
    from plantwatch.store import service

    with ctx.store.session() as s:
        analysis_id = int(service.queue_analysis(s, video_id, user.username).id)
    if ctx.runner is not None:
        ctx.runner.submit(analysis_id)
    return analysis_id


async def upload_video(request: Request, ctx: WebContext, user: SessionUser) -> int:
    """Stream the clip to disk, store it (file + row), queue its analysis when the user may."""
    from plantwatch.store import service

    upload = await receive_upload(
        request,
        data_dir=ctx.data_dir,
        max_bytes=ctx.max_upload_bytes,
        allowed={"video": VIDEO_KINDS},
        csrf_expected=session_csrf(request),
        csrf_header_ok=header_csrf_ok(request),
    )
    try:
        if not upload.files:
            raise InputError("choose a video (MP4/AVI), a 16-bit TIFF stack or a .npy", "video")
        f = upload.files[0]
        if f.kind == "tiff":
            _check_tiff16(f.path)
        site_text = upload.get("site_id").strip()
        site_id = int(site_text) if site_text.isdigit() else None
        facility = upload.get("facility_key").strip() or None

        def work() -> int:
            with ctx.store.session() as s:
                video = service.add_gas_video(
                    s, ctx.store, f.path, f.original_name, user.username, site_id, facility
                )
                return int(video.id)

        video_id = await run_in_threadpool(work)
    finally:
        upload.cleanup()
    if user.may("analysis.queue"):
        await run_in_threadpool(_queue, ctx, user, video_id)
    return video_id


def _check_tiff16(path: Path) -> None:
    """A TIFF must be a 16-bit stack (what gas cameras export as radiometric raw)."""
    from plantwatch.web.uploads import UploadError

    try:
        import tifffile

        with tifffile.TiffFile(path) as tif:
            bits = tif.pages[0].bitspersample  # type: ignore[union-attr]
    except Exception as exc:  # an unreadable TIFF is the user's file, not a server fault
        raise UploadError(415, f"the TIFF cannot be read: {exc}".splitlines()[0]) from None
    if bits != 16:
        raise UploadError(415, f"the TIFF has {bits}-bit samples; send a 16-bit stack")


def gas_detail(ctx: WebContext, video_id: int) -> dict[str, Any]:
    """A clip with its latest analysis (cached until a write or an analysis step)."""
    result: dict[str, Any] = ctx.cached(("gas", video_id), lambda: _gas_detail(ctx, video_id))
    return result


def _gas_detail(ctx: WebContext, video_id: int) -> dict[str, Any]:
    from plantwatch.store.models import GasVideo

    with ctx.store.session() as s:
        video = get_or_404(s, GasVideo, video_id)
        out = row_dict(video)
        analysis = latest_analysis(s, video_id)
        out["analysis"] = None if analysis is None else row_dict(analysis)
    out.pop("file", None)
    if analysis is not None and analysis.heatmap_file:
        size = _png_size(ctx.store.path(analysis.heatmap_file))
        out["analysis"]["heatmap_size_px"] = list(size) if size else None
    return out


@router.get("/gas")
def gas_page(
    request: Request,
    user: Annotated[SessionUser, Depends(ANY)],
    ctx: Annotated[WebContext, Depends(web)],
) -> Response:
    def compute() -> tuple[list[Any], list[dict[str, Any]]]:
        with ctx.store.session() as s:
            rows = [(row_dict(v), row_dict(a) if a else None) for v, a in gas_videos(s)]
            return rows, site_dicts(s)

    rows, sites = ctx.cached(("gas-list",), compute)
    return ctx.page(
        request, "gas_list.html", videos=rows, sites=sites, section="gas", title="Gas videos"
    )


@router.post("/gas")
@streamed_upload
async def gas_upload_page(
    request: Request,
    user: Annotated[SessionUser, Depends(UPLOADER)],
    ctx: Annotated[WebContext, Depends(web)],
) -> Response:
    video_id = await upload_video(request, ctx, user)
    return redirect(f"/gas/{video_id}", request, "video stored")


@router.get("/gas/{video_id}")
def gas_video_page(
    request: Request,
    video_id: int,
    user: Annotated[SessionUser, Depends(ANY)],
    ctx: Annotated[WebContext, Depends(web)],
) -> Response:
    detail = gas_detail(ctx, video_id)
    analysis = detail["analysis"]
    pending = analysis is not None and analysis["status"] in ("queued", "running")
    return ctx.page(
        request,
        "gas.html",
        video=detail,
        analysis=analysis,
        result=(analysis or {}).get("result_json") or {},
        refresh_s=2 if pending else None,
        section="gas",
        title=detail["original_name"],
    )


@router.post("/gas/{video_id}/analyse")
def gas_analyse_page(
    request: Request,
    video_id: int,
    user: Annotated[SessionUser, Depends(QUEUE)],
    ctx: Annotated[WebContext, Depends(web)],
) -> Response:
    _queue(ctx, user, video_id)
    return redirect(f"/gas/{video_id}", request, "analysis queued")


def _analysis_file(ctx: WebContext, video_id: int, which: str) -> Path:
    with ctx.store.session() as s:
        analysis = latest_analysis(s, video_id)
        rel = None if analysis is None else getattr(analysis, which)
    if not rel:
        raise NotFound(f"gas video {video_id} has no {which.replace('_file', '')} yet")
    path = ctx.store.path(rel)
    if not path.is_file():
        raise NotFound(f"gas video {video_id}'s {which.replace('_file', '')} file is missing")
    return path


@router.get("/gas/{video_id}/overlay.mp4")
def gas_overlay(
    video_id: int,
    user: Annotated[SessionUser, Depends(ANY)],
    ctx: Annotated[WebContext, Depends(web)],
) -> Response:
    return FileResponse(_analysis_file(ctx, video_id, "overlay_file"), media_type="video/mp4")


@router.get("/gas/{video_id}/heatmap.png")
def gas_heatmap(
    video_id: int,
    user: Annotated[SessionUser, Depends(ANY)],
    ctx: Annotated[WebContext, Depends(web)],
) -> Response:
    return FileResponse(_analysis_file(ctx, video_id, "heatmap_file"), media_type="image/png")


# ---- API


@router.get("/api/gas")
def api_gas(
    user: Annotated[SessionUser, Depends(ANY)], ctx: Annotated[WebContext, Depends(web)]
) -> list[dict[str, Any]]:
    with ctx.store.session() as s:
        out = []
        for video, analysis in gas_videos(s):
            item = row_dict(video)
            item.pop("file", None)
            item["analysis"] = None if analysis is None else row_dict(analysis)
            out.append(item)
        return out


@router.post("/api/gas")
@streamed_upload
async def api_gas_upload(
    request: Request,
    user: Annotated[SessionUser, Depends(UPLOADER)],
    ctx: Annotated[WebContext, Depends(web)],
) -> dict[str, Any]:
    video_id = await upload_video(request, ctx, user)
    return gas_detail(ctx, video_id)


@router.get("/api/gas/{video_id}")
def api_gas_video(
    video_id: int,
    user: Annotated[SessionUser, Depends(ANY)],
    ctx: Annotated[WebContext, Depends(web)],
) -> dict[str, Any]:
    return gas_detail(ctx, video_id)


@router.post("/api/gas/{video_id}/analyse")
def api_gas_analyse(
    video_id: int,
    user: Annotated[SessionUser, Depends(QUEUE)],
    ctx: Annotated[WebContext, Depends(web)],
) -> dict[str, Any]:
    return {"analysis_id": _queue(ctx, user, video_id)}
