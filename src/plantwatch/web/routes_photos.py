"""Drone photos: upload (many JPEGs at once), their EXIF/XMP metadata and matched facility
(read by :mod:`plantwatch.drone.photos` inside ``store.service.add_photo``), findings marked as
rectangles on a photo, and the inspection report (:mod:`plantwatch.drone.findings`)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from plantwatch.errors import InputError, NotFound
from plantwatch.web.auth import SessionUser, header_csrf_ok, permission, require, session_csrf
from plantwatch.web.context import WebContext, redirect, web
from plantwatch.web.queries import findings_of, get_or_404, photos, plans_of, row_dict, site_dicts
from plantwatch.web.uploads import receive_upload, streamed_upload

router = APIRouter()

ANY = require()
UPLOADER = permission("photo.add")
INSPECTOR = permission("finding.add")
THUMB_DIR = Path("files") / "cache" / "thumbs"
_THUMB_PX = 360


def defects() -> tuple[str, ...]:
    """Defect types of the inspection data (``data/inspection/defects.yaml``)."""
    from plantwatch.drone.findings import defect_types

    return tuple(defect_types())


def severity_names(lang: str = "en") -> dict[int, str]:
    """Severity levels of the inspection data, number -> name (1 observe ... 4 urgent)."""
    from plantwatch.drone.findings import severities

    return {level: s.name.get(lang) or s.id for level, s in severities().items()}


def _int_or_none(value: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise InputError(f"must be a number, got {value!r}", field="id") from None


def read_photo_meta(
    path: Path, original_name: str, site: Any | None, scene: Any | None
) -> tuple[dict[str, Any], str | None, dt.datetime | None]:
    """EXIF/XMP, pose, GSD and matched facility of one photo (:mod:`plantwatch.drone.photos`).

    A photo the library cannot place (no EXIF, no GPS) is still stored, with the reason in
    ``meta["error"]``: an inspector may want it even without a position.
    """
    from plantwatch.drone.photos import analyse_photo, local_frame, photo_to_json, read_photo
    from plantwatch.errors import PlantwatchError

    try:
        meta = read_photo(path)
        frame = site if site is not None else local_frame(meta.lat_deg, meta.lon_deg)
        record = analyse_photo(meta, frame, site_given=site is not None, scene=scene)
    except PlantwatchError as exc:
        message = str(exc).replace(str(path), original_name).splitlines()[0]
        return {"file": original_name, "error": message}, None, None
    data = photo_to_json(record, with_site=site is not None)
    data["file"] = original_name
    width, height = meta.image_width_px, meta.image_height_px
    data["width_px"], data["height_px"] = width, height
    taken = meta.time if meta.time is not None and meta.time.tzinfo is not None else None
    return data, record.facility_id, taken


async def upload_photos(request: Request, ctx: WebContext, user: SessionUser) -> list[int]:
    """Stream the JPEGs of field ``photos`` to disk, then store each (file + row atomically in
    the store); the batch is one transaction: all photos or none."""
    from plantwatch.store import service

    upload = await receive_upload(
        request,
        data_dir=ctx.data_dir,
        max_bytes=ctx.max_upload_bytes,
        allowed={"photos": ("jpeg",)},
        csrf_expected=session_csrf(request),
        csrf_header_ok=header_csrf_ok(request),
    )
    try:
        if not upload.files:
            raise InputError("choose one or more JPEG photos", field="photos")
        site_id = _int_or_none(upload.get("site_id"))
        plan_id = _int_or_none(upload.get("plan_id"))
        if site_id is None and plan_id is not None:
            from plantwatch.store.models import Plan

            with ctx.store.session() as s:
                site_id = get_or_404(s, Plan, plan_id).site_id

        def work() -> list[int]:
            from plantwatch.drone.site import site_primitives

            site = ctx.site_model(site_id) if site_id is not None else None
            scene = site_primitives(site) if site is not None else None
            read = [read_photo_meta(f.path, f.original_name, site, scene) for f in upload.files]
            with ctx.store.session() as s:
                ids = []
                for f, (meta, facility, taken) in zip(upload.files, read, strict=True):
                    photo = service.add_photo(
                        s,
                        ctx.store,
                        f.path,
                        f.original_name,
                        user.username,
                        site_id=site_id,
                        plan_id=plan_id,
                        meta=meta,
                        facility_key=facility,
                        taken_at=taken,
                        max_bytes=ctx.max_upload_bytes,
                    )
                    ids.append(int(photo.id))
                return ids

        return await run_in_threadpool(work)
    finally:
        upload.cleanup()


class FindingBody(BaseModel):
    defect: str
    severity: int = Field(ge=1, le=4)
    x: int = Field(ge=0)
    y: int = Field(ge=0)
    w: int = Field(gt=0)
    h: int = Field(gt=0)
    note: str = Field("", max_length=4000)
    facility_key: str | None = None


def add_finding(
    ctx: WebContext, user: SessionUser, photo_id: int, body: FindingBody
) -> dict[str, Any]:
    from plantwatch.store import service
    from plantwatch.store.models import Photo

    if body.defect not in defects():
        raise InputError(
            f"unknown defect {body.defect!r}; valid: {', '.join(defects())}", field="defect"
        )
    with ctx.store.session() as s:
        photo = get_or_404(s, Photo, photo_id)
        width = int(photo.meta_json.get("width_px") or 0)
        height = int(photo.meta_json.get("height_px") or 0)
        if width and height and (body.x + body.w > width or body.y + body.h > height):
            raise InputError(
                f"region {body.x},{body.y} {body.w}x{body.h} leaves the photo "
                f"({width}x{height} px)",
                field="region",
            )
        finding = service.add_finding(
            s,
            photo_id,
            body.defect,
            body.severity,
            {"x": body.x, "y": body.y, "w": body.w, "h": body.h},
            body.note,
            user.username,
            facility_key=body.facility_key or photo.facility_key,
        )
        return row_dict(finding)


def photo_detail(ctx: WebContext, photo_id: int) -> dict[str, Any]:
    """A photo with its findings (cached until a write; do not change the returned dict)."""
    result: dict[str, Any] = ctx.cached(("photo", photo_id), lambda: _photo_detail(ctx, photo_id))
    return result


def _photo_detail(ctx: WebContext, photo_id: int) -> dict[str, Any]:
    from plantwatch.store.models import Photo

    with ctx.store.session() as s:
        photo = get_or_404(s, Photo, photo_id)
        out = row_dict(photo)
        out["findings"] = [row_dict(f) for f in findings_of(s, photo_id)]
    out.pop("file", None)
    return out


def _photo_map(ctx: WebContext, photo: dict[str, Any]) -> str | None:
    """The site map with the photo's position and its facility highlighted."""
    import numpy as np

    from plantwatch.web.svgmap import MapOverlay

    site_id = photo.get("site_id")
    meta = photo.get("meta_json") or {}
    if site_id is None:
        return None
    markers: list[tuple[float, float, str]] = []
    lat, lon = meta.get("lat"), meta.get("lon")
    if isinstance(lat, int | float) and isinstance(lon, int | float):
        site = ctx.site_model(site_id)
        enu = site.from_wgs84(np.array([[float(lat), float(lon), 0.0]]))
        markers.append((float(enu[0, 0]), float(enu[0, 1]), f"photo {photo['original_name']}"))
    highlight = frozenset({photo["facility_key"]}) if photo.get("facility_key") else frozenset()
    return ctx.map_svg(site_id, MapOverlay(markers=markers, highlight=highlight))


@router.get("/photos")
def photos_page(
    request: Request,
    user: Annotated[SessionUser, Depends(ANY)],
    ctx: Annotated[WebContext, Depends(web)],
) -> Response:
    def compute() -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[tuple[int, str]]]:
        with ctx.store.session() as s:
            rows = [row_dict(p) for p in photos(s)]
            plans = [(p.id, f"{p.name} v{p.version}") for p in plans_of(s)]
            return rows, site_dicts(s), plans

    rows, sites, plans = ctx.cached(("photos",), compute)
    return ctx.page(
        request,
        "photos.html",
        photos=rows,
        sites=sites,
        plans=plans,
        max_upload_bytes=ctx.max_upload_bytes,
        section="photos",
        title="Photos",
    )


@router.post("/photos")
@streamed_upload
async def photos_upload_page(
    request: Request,
    user: Annotated[SessionUser, Depends(UPLOADER)],
    ctx: Annotated[WebContext, Depends(web)],
) -> Response:
    ids = await upload_photos(request, ctx, user)
    if len(ids) == 1:
        return redirect(f"/photos/{ids[0]}", request, "1 photo stored")
    return redirect("/photos", request, f"{len(ids)} photos stored")


@router.get("/photos/{photo_id}")
def photo_page(
    request: Request,
    photo_id: int,
    user: Annotated[SessionUser, Depends(ANY)],
    ctx: Annotated[WebContext, Depends(web)],
) -> Response:
    from plantwatch.web.queries import facility_keys

    photo = photo_detail(ctx, photo_id)
    svg = ctx.cached(("photo-map", photo_id), lambda: _photo_map(ctx, photo))
    facilities: list[tuple[str, str]] = []
    if photo.get("site_id") is not None:

        def compute() -> list[tuple[str, str]]:
            with ctx.store.session() as s:
                return facility_keys(s, photo["site_id"])

        facilities = ctx.cached(("facilities", photo["site_id"]), compute)
    return ctx.page(
        request,
        "photo.html",
        photo=photo,
        meta=photo.get("meta_json") or {},
        svg=svg,
        facilities=facilities,
        defects=defects(),
        severities=severity_names(),
        section="photos",
        title=photo["original_name"],
    )


def _photo_path(ctx: WebContext, photo_id: int) -> Path:
    from plantwatch.store.models import Photo

    with ctx.store.session() as s:
        return ctx.store.path(get_or_404(s, Photo, photo_id).file)


@router.get("/photos/{photo_id}/image")
def photo_image(
    photo_id: int,
    user: Annotated[SessionUser, Depends(ANY)],
    ctx: Annotated[WebContext, Depends(web)],
) -> Response:
    path = _photo_path(ctx, photo_id)
    if not path.is_file():
        raise NotFound(f"photo {photo_id}'s file is missing")
    return FileResponse(path, media_type="image/jpeg")


@router.get("/photos/{photo_id}/thumb")
def photo_thumb(
    photo_id: int,
    user: Annotated[SessionUser, Depends(ANY)],
    ctx: Annotated[WebContext, Depends(web)],
) -> Response:
    """A small JPEG (cached) so the photo list stays light on a tablet."""
    import os
    import tempfile

    import cv2

    thumb = ctx.data_dir / THUMB_DIR / f"{photo_id}.jpg"
    if not thumb.is_file():
        image = cv2.imread(str(_photo_path(ctx, photo_id)), cv2.IMREAD_REDUCED_COLOR_4)
        if image is None:
            raise NotFound(f"photo {photo_id} cannot be read")
        scale = _THUMB_PX / max(image.shape[:2])
        if scale < 1:
            image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 80])
        if not ok:  # pragma: no cover
            raise NotFound(f"photo {photo_id} cannot be scaled")
        thumb.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=thumb.parent, suffix=".part")
        with os.fdopen(fd, "wb") as f:
            f.write(data.tobytes())
        os.replace(tmp, thumb)
    return FileResponse(thumb, media_type="image/jpeg")


@router.post("/photos/{photo_id}/findings")
def finding_add_page(
    request: Request,
    photo_id: int,
    user: Annotated[SessionUser, Depends(INSPECTOR)],
    ctx: Annotated[WebContext, Depends(web)],
    defect: Annotated[str, Form()],
    severity: Annotated[int, Form()],
    x: Annotated[int, Form()],
    y: Annotated[int, Form()],
    w: Annotated[int, Form()],
    h: Annotated[int, Form()],
    note: Annotated[str, Form()] = "",
    facility_key: Annotated[str, Form()] = "",
) -> Response:
    try:
        body = FindingBody(
            defect=defect,
            severity=severity,
            x=x,
            y=y,
            w=w,
            h=h,
            note=note,
            facility_key=facility_key or None,
        )
    except ValueError as exc:
        raise InputError(str(exc).splitlines()[0], field="finding") from None
    add_finding(ctx, user, photo_id, body)
    return redirect(f"/photos/{photo_id}", request, "finding recorded")


@router.get("/reports/inspection")
def inspection_report(
    user: Annotated[SessionUser, Depends(ANY)],
    ctx: Annotated[WebContext, Depends(web)],
    plan_id: int,
    lang: str = "en",
    fmt: str = "html",
) -> Response:
    """The inspection report of a plan's photos (findings by facility, the conventional-
    inspection list) from :mod:`plantwatch.drone.findings`."""
    from plantwatch.web.report import inspection_report_file

    path, media = inspection_report_file(ctx, plan_id, lang, fmt)
    stamp = dt.date.today().isoformat()
    return FileResponse(
        path,
        media_type=media,
        filename=f"inspection_report_plan{plan_id}_{stamp}_{lang}.{fmt}",
        content_disposition_type="attachment" if fmt == "pdf" else "inline",
    )


# ---- API


@router.get("/api/photos")
def api_photos(
    user: Annotated[SessionUser, Depends(ANY)], ctx: Annotated[WebContext, Depends(web)]
) -> list[dict[str, Any]]:
    with ctx.store.session() as s:
        out = [row_dict(p) for p in photos(s)]
    for item in out:
        item.pop("file", None)
    return out


@router.post("/api/photos")
@streamed_upload
async def api_photos_upload(
    request: Request,
    user: Annotated[SessionUser, Depends(UPLOADER)],
    ctx: Annotated[WebContext, Depends(web)],
) -> list[dict[str, Any]]:
    ids = await upload_photos(request, ctx, user)
    return [photo_detail(ctx, i) for i in ids]


@router.get("/api/photos/{photo_id}")
def api_photo(
    photo_id: int,
    user: Annotated[SessionUser, Depends(ANY)],
    ctx: Annotated[WebContext, Depends(web)],
) -> dict[str, Any]:
    return photo_detail(ctx, photo_id)


@router.post("/api/photos/{photo_id}/findings")
def api_finding_add(
    photo_id: int,
    body: FindingBody,
    user: Annotated[SessionUser, Depends(INSPECTOR)],
    ctx: Annotated[WebContext, Depends(web)],
) -> dict[str, Any]:
    return add_finding(ctx, user, photo_id, body)
