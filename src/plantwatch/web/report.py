"""The inspection report of a plan's photos and findings, from :mod:`plantwatch.drone.findings`.

The library reads photos from files and findings as :class:`~plantwatch.drone.findings.Finding`;
the store keeps both as rows. Here the rows become those inputs (stored photo paths, findings
with their photo's path), the library renders, and the result is cached by the set of photos
and findings it was made from (a new finding makes a new report).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from plantwatch.errors import InputError
from plantwatch.web.assess import _atomic_write

if TYPE_CHECKING:
    from plantwatch.web.context import WebContext

__all__ = ["REPORT_DIR", "inspection_report_file"]

REPORT_DIR = Path("files") / "cache" / "reports"


def inspection_report_file(ctx: WebContext, plan_id: int, lang: str, fmt: str) -> tuple[Path, str]:
    """The report (HTML or PDF) for the photos uploaded for ``plan_id``; path and media type."""
    from plantwatch.drone.documents import check_lang, html_to_pdf
    from plantwatch.drone.findings import Finding, render_inspection_report
    from plantwatch.drone.photos import survey_photos
    from plantwatch.store import models as m
    from plantwatch.web.queries import get_or_404

    check_lang(lang)
    if fmt not in ("html", "pdf"):
        raise InputError(f"must be html or pdf, got {fmt!r}", field="fmt")
    with ctx.store.session() as s:
        plan = get_or_404(s, m.Plan, plan_id)
        plan_dir = ctx.store.path(plan.plan_dir)
        photos = list(
            s.scalars(select(m.Photo).where(m.Photo.plan_id == plan_id).order_by(m.Photo.id))
        )
        photo_ids = [p.id for p in photos]
        paths = {p.id: ctx.store.path(p.file) for p in photos}
        rows = (
            list(
                s.scalars(
                    select(m.Finding)
                    .where(m.Finding.photo_id.in_(photo_ids))
                    .order_by(m.Finding.id)
                )
            )
            if photo_ids
            else []
        )
        findings = [
            Finding(
                photo=str(paths[f.photo_id]),
                defect=f.defect,
                severity=min(int(f.severity), 4),  # the report's scale has 4 levels
                region={
                    "x": int(f.region_json["x"]),
                    "y": int(f.region_json["y"]),
                    "w": int(f.region_json["w"]),
                    "h": int(f.region_json["h"]),
                },
                inspector=f.created_by,
                time=f.created_at,
                facility=f.facility_key,
                note=f.note,
                id=str(f.id),
            )
            for f in rows
        ]
    if not photos:
        raise InputError(
            f"plan {plan_id} has no photos yet; upload the flight's photos for this plan",
            field="plan_id",
        )
    key = hashlib.sha256(
        repr((plan_id, photo_ids, [f.id for f in rows], lang)).encode()
    ).hexdigest()[:16]
    out = ctx.data_dir / REPORT_DIR / f"plan{plan_id}-{key}.{fmt}"
    media = "application/pdf" if fmt == "pdf" else "text/html; charset=utf-8"
    if out.is_file():
        return out, media
    survey = survey_photos(list(dict.fromkeys(paths.values())), plan_dir=plan_dir)
    html = render_inspection_report(plan_dir, survey, findings, lang)
    _atomic_write(out, html.encode("utf-8") if fmt == "html" else html_to_pdf(html))
    return out, media
