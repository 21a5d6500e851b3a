"""Image-based inspection findings and the inspection report (HTML and PDF, Japanese/English).

MHLW-2022 §5.5: an experienced inspector examines the photos (画像による目視検査は検査熟練者
により実施すること), with the limits of photos in mind (no quantitative assessment, damage under
scale, unevenness, no smell or sound), and sends blind spots and high-risk spots to conventional
visual inspection. Here the inspector's judgement is a :class:`Finding`: a region of a photo, a
defect type and a severity; the defect types, their photo limitations and the severity scale
are data (``data/inspection/defects.yaml``).

The report (:func:`render_inspection_report`, template ``inspection_report.html``) lists

1. the findings by facility, each with a crop of its region from the photo (a JPEG data URI,
   the region outlined), the defect type, severity, note, inspector and time, and what the photo
   cannot show for that defect;
2. the conventional-inspection list: blind spots left by the photos *as taken* (coverage
   recomputed from their poses, :func:`~plantwatch.drone.photos.coverage_from_photos`; the
   plan's ``coverage.json`` list when it cannot be recomputed), parts of the site the plan did
   not fly (``plan.json`` ``skipped``), planned shots not taken, and findings at or above the
   data's ``conventional_from`` severity;
3. the photos by facility (count, GSD range, time span).

The photos are matched to the site and the plan by :func:`~plantwatch.drone.photos.
survey_photos`. The PDF comes from WeasyPrint through :func:`plantwatch.drone.documents.
html_to_pdf` (Noto Sans CJK for Japanese).
"""

from __future__ import annotations

import base64
import importlib.resources
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator

from plantwatch.drone.photos import PhotoRecord, PhotoSurvey, survey_photos
from plantwatch.errors import DataError, InputError

__all__ = [
    "DefectType",
    "Finding",
    "Region",
    "Severity",
    "conventional_from",
    "defect_types",
    "load_findings",
    "render_inspection_report",
    "severities",
    "write_findings",
    "write_inspection_report",
]

Text = dict[str, str]
_THUMB_WIDTH_PX = 360  # thumbnails are scaled to this width at most [px]
_THUMB_MARGIN = 0.6  # context around a region, as a fraction of its larger side [-]

LABELS: dict[str, Text] = {
    "title": {"ja": "画像による点検結果報告書", "en": "Image-based inspection report"},
    "subtitle": {
        "ja": "ドローン画像による目視検査の所見と従来検査が必要な箇所（MHLW-2022 §5.5）",
        "en": "Findings of the visual inspection of drone photos and the spots for "
        "conventional inspection (MHLW-2022 §5.5)",
    },
    "site": {"ja": "対象事業所", "en": "Site"},
    "plan_folder": {"ja": "計画フォルダ", "en": "Plan folder"},
    "photos_folder": {"ja": "画像フォルダ", "en": "Photos folder"},
    "prepared": {"ja": "作成日", "en": "Prepared on"},
    "inspectors": {"ja": "検査実施者", "en": "Inspectors"},
    "sec_summary": {"ja": "1. 概要", "en": "1. Summary"},
    "sec_findings": {"ja": "2. 設備ごとの所見", "en": "2. Findings by facility"},
    "sec_conventional": {
        "ja": "3. 従来の目視検査が必要な箇所",
        "en": "3. Spots for conventional visual inspection",
    },
    "sec_photos": {"ja": "4. 設備ごとの撮影画像", "en": "4. Photos by facility"},
    "photos_read": {"ja": "読み込んだ画像", "en": "Photos read"},
    "photo_errors": {"ja": "読み込めなかった画像", "en": "Photos that could not be read"},
    "time_span": {"ja": "撮影日時", "en": "Taken"},
    "shots": {"ja": "計画撮影数 / 撮影済 / 未撮影", "en": "Planned shots / taken / not taken"},
    "coverage_planned": {"ja": "撮影範囲（計画）", "en": "Coverage (as planned)"},
    "coverage_actual": {"ja": "撮影範囲（実際の画像）", "en": "Coverage (photos as taken)"},
    "findings_count": {"ja": "所見数（重大度別）", "en": "Findings (by severity)"},
    "no_findings": {"ja": "所見なし", "en": "No findings"},
    "no_facility": {"ja": "設備不明", "en": "Facility not identified"},
    "id": {"ja": "番号", "en": "No."},
    "region": {"ja": "該当箇所", "en": "Region"},
    "defect": {"ja": "損傷の種類", "en": "Defect"},
    "severity": {"ja": "重大度", "en": "Severity"},
    "photo": {"ja": "画像", "en": "Photo"},
    "note": {"ja": "備考", "en": "Note"},
    "inspector": {"ja": "検査実施者", "en": "Inspector"},
    "time": {"ja": "記録日時", "en": "Recorded"},
    "image_limit": {"ja": "画像の限界", "en": "What the photo cannot show"},
    "blind_spots": {
        "ja": "3.1 死角（実際の画像による）",
        "en": "3.1 Blind spots (photos as taken)",
    },
    "blind_spots_planned": {
        "ja": "3.1 死角（計画時の撮影範囲による）",
        "en": "3.1 Blind spots (coverage as planned)",
    },
    "not_flown": {"ja": "3.2 飛行しなかった部分", "en": "3.2 Parts not flown"},
    "not_taken": {"ja": "3.3 未撮影の計画撮影点", "en": "3.3 Planned shots not taken"},
    "high_risk": {
        "ja": "3.4 リスクに応じて従来検査を行う所見",
        "en": "3.4 Findings that need conventional inspection (risk)",
    },
    "none": {"ja": "なし", "en": "None"},
    "facility": {"ja": "設備", "en": "Facility"},
    "action": {"ja": "実施事項", "en": "Action"},
    "reason": {"ja": "理由", "en": "Reason"},
    "parts": {"ja": "部分", "en": "Parts"},
    "count": {"ja": "数", "en": "Count"},
    "shot_numbers": {"ja": "撮影点番号", "en": "Shot numbers"},
    "sorties": {"ja": "フライト", "en": "Sorties"},
    "photos": {"ja": "枚数", "en": "Photos"},
    "gsd": {"ja": "GSD [cm/px]", "en": "GSD [cm/px]"},
    "not_taken_action": {
        "ja": "撮影されなかった範囲を確認し、再撮影又は従来の目視検査を実施すること。",
        "en": "check the area these shots should have covered; re-fly or inspect conventionally.",
    },
    "not_flown_action": {
        "ja": "飛行しなかった部分は従来の目視検査を実施すること。",
        "en": "inspect the parts not flown by conventional visual inspection.",
    },
    "notes": {"ja": "注記", "en": "Notes"},
    "judgement_note": {
        "ja": "所見は検査実施者の判断による。本システムは記録と集計のみを行う。"
        "画像による検査は手作業等を伴う検査の代替にはならない（MHLW-2022 §5.5）。",
        "en": "Findings are the inspector's judgement; plantwatch records and collates them. "
        "Image-based inspection does not replace inspection that needs hands-on work "
        "(MHLW-2022 §5.5).",
    },
}


# -- data --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DefectType:
    """A defect type from ``defects.yaml`` with what photos cannot show about it."""

    id: str
    name: Text
    image_limit: Text
    citation: str


@dataclass(frozen=True)
class Severity:
    """A severity level (plantwatch's four-step scale, ``defects.yaml``)."""

    level: int
    id: str
    name: Text
    meaning: Text


@lru_cache(maxsize=1)
def _data() -> tuple[dict[str, DefectType], dict[int, Severity], int, str]:
    resource = importlib.resources.files("plantwatch").joinpath(
        "data", "inspection", "defects.yaml"
    )
    try:
        doc: Any = yaml.safe_load(resource.read_text(encoding="utf-8"))
        defects = {
            str(d["id"]): DefectType(
                str(d["id"]), dict(d["name"]), dict(d["image_limit"]), str(d["citation"])
            )
            for d in doc["defects"]
        }
        levels = {
            int(s["level"]): Severity(
                int(s["level"]), str(s["id"]), dict(s["name"]), dict(s["meaning"])
            )
            for s in doc["severities"]
        }
        threshold = int(doc["conventional_from"])
        citation = str(doc["conventional_citation"])
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError) as exc:  # pragma: no cover
        raise DataError(f"cannot read data/inspection/defects.yaml: {exc}") from exc
    return defects, levels, threshold, citation


def defect_types() -> dict[str, DefectType]:
    """Defect types by id (``corrosion``, ``coating_damage``, ``leak_trace`` …)."""
    return dict(_data()[0])


def severities() -> dict[int, Severity]:
    """Severity levels by number (1 observe … 4 urgent)."""
    return dict(_data()[1])


def conventional_from() -> int:
    """Findings at or above this severity go to the conventional-inspection list."""
    return _data()[2]


# -- model -------------------------------------------------------------------------------------


class Region(BaseModel):
    """A rectangle on the photo [px]: top-left corner ``x``, ``y``, width ``w``, height ``h``."""

    model_config = {"frozen": True, "extra": "forbid"}

    x: int = Field(ge=0)
    y: int = Field(ge=0)
    w: int = Field(gt=0)
    h: int = Field(gt=0)


class Finding(BaseModel):
    """One defect an inspector marked on a photo.

    ``photo`` is the file name relative to the photos folder (or a path); ``facility`` the
    facility id (default: the facility the photo is matched to); ``defect`` an id of
    :func:`defect_types`; ``severity`` a level of :func:`severities` (number or id); ``time``
    when the finding was recorded, with its UTC offset.
    """

    model_config = {"frozen": True, "extra": "forbid"}

    photo: str = Field(min_length=1)
    defect: str
    severity: int
    region: Region
    inspector: str = Field(min_length=1)
    time: datetime
    facility: str | None = None
    note: str = ""
    id: str = ""

    @field_validator("defect")
    @classmethod
    def _known_defect(cls, value: str) -> str:
        known = defect_types()
        if value not in known:
            raise ValueError(f"unknown defect type; valid: {', '.join(known)}")
        return value

    @field_validator("severity", mode="before")
    @classmethod
    def _severity(cls, value: Any) -> int:
        levels = severities()
        by_id = {s.id: s.level for s in levels.values()}
        if isinstance(value, str) and value in by_id:
            return by_id[value]
        if isinstance(value, int) and not isinstance(value, bool) and value in levels:
            return value
        valid = ", ".join(f"{s.level} ({s.id})" for s in levels.values())
        raise ValueError(f"unknown severity; valid: {valid}")

    @field_validator("inspector")
    @classmethod
    def _person(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must name the inspector")
        return value.strip()

    @field_validator("time")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("must carry a UTC offset (e.g. 2031-05-12T10:00+09:00)")
        return value


def _finding(data: Any, where: str) -> Finding:
    if not isinstance(data, Mapping):
        raise InputError(f"must be a mapping, got {type(data).__name__}", field=where)
    try:
        return Finding.model_validate(dict(data))
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = ".".join(str(p) for p in error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        raise InputError(f"{message} (got {error.get('input')!r})", f"{where}.{loc}") from None


def load_findings(path: str | Path) -> list[Finding]:
    """Findings from a YAML file.

    The file holds a list of findings, or a mapping with ``findings:`` (the list) and optional
    defaults ``inspector:`` and ``time:`` applied to findings that lack them. Findings without
    an ``id`` are numbered ``F-001`` … in file order.

    Raises
    ------
    InputError
        Unreadable file, or a finding with a missing or bad field (``field`` names the file and
        ``findings[k].field``).
    """
    file = Path(path)
    try:
        doc = yaml.safe_load(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read ({exc.strerror or exc})", field=str(file)) from None
    except yaml.YAMLError as exc:
        raise InputError(f"not valid YAML ({exc})".splitlines()[0], field=str(file)) from None
    defaults: dict[str, Any] = {}
    if isinstance(doc, Mapping):
        defaults = {k: doc[k] for k in ("inspector", "time") if k in doc}
        doc = doc.get("findings")
    if doc is None:
        return []
    if not isinstance(doc, list):
        raise InputError("must hold a list of findings (or findings: [...])", field=str(file))
    findings: list[Finding] = []
    for k, item in enumerate(doc):
        merged = {**defaults, **item} if isinstance(item, Mapping) else item
        finding = _finding(merged, f"{file}: findings[{k}]")
        if not finding.id:
            finding = finding.model_copy(update={"id": f"F-{k + 1:03d}"})
        findings.append(finding)
    ids = [f.id for f in findings]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise InputError(f"finding ids must be unique, repeated: {duplicates}", field=str(file))
    return findings


def write_findings(path: str | Path, findings: Iterable[Finding]) -> Path:
    """Write findings as YAML (atomically), in the form :func:`load_findings` reads."""
    from plantwatch.fileio import atomic_write_bytes as _atomic_write_bytes

    rows = [f.model_dump(mode="json", exclude_none=True) for f in findings]
    text = yaml.safe_dump({"findings": rows}, allow_unicode=True, sort_keys=False)
    target = Path(path)
    _atomic_write_bytes(target, text.encode("utf-8"))
    return target


# -- report ------------------------------------------------------------------------------------


def _thumbnail(record: PhotoRecord, region: Region, where: str) -> str:
    """A JPEG data URI: the region with some context, outlined in red."""
    path = record.meta.path
    picture = cv2.imdecode(np.frombuffer(path.read_bytes(), dtype=np.uint8), cv2.IMREAD_COLOR)
    if picture is None:
        raise InputError("the photo's pixels cannot be decoded", field=str(path))
    height, width = picture.shape[:2]
    if region.x + region.w > width or region.y + region.h > height:
        raise InputError(
            f"region {region.x},{region.y} {region.w}x{region.h} px lies outside the "
            f"{width} x {height} px photo",
            field=f"{where}.region",
        )
    margin = round(_THUMB_MARGIN * max(region.w, region.h))
    x0, y0 = max(0, region.x - margin), max(0, region.y - margin)
    x1, y1 = min(width, region.x + region.w + margin), min(height, region.y + region.h + margin)
    crop = picture[y0:y1, x0:x1].copy()
    factor = min(1.0, _THUMB_WIDTH_PX / crop.shape[1])
    if factor < 1.0:
        crop = cv2.resize(
            crop,
            (max(1, round(crop.shape[1] * factor)), max(1, round(crop.shape[0] * factor))),
            interpolation=cv2.INTER_AREA,
        )
    top_left = (round((region.x - x0) * factor), round((region.y - y0) * factor))
    bottom_right = (
        round((region.x + region.w - x0) * factor) - 1,
        round((region.y + region.h - y0) * factor) - 1,
    )
    cv2.rectangle(crop, top_left, bottom_right, (0, 0, 255), max(2, round(crop.shape[1] / 100)))
    ok, encoded = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, 82])
    if not ok:  # pragma: no cover - OpenCV failure
        raise InputError("cannot encode the thumbnail", field=str(path))
    return "data:image/jpeg;base64," + base64.b64encode(encoded.tobytes()).decode("ascii")


def _record_for(
    finding: Finding, photos_dir: Path | None, survey: PhotoSurvey, where: str
) -> PhotoRecord:
    by_path = {r.meta.path.resolve(): r for r in survey.photos}
    candidates = [Path(finding.photo)]
    if photos_dir is not None and not Path(finding.photo).is_absolute():
        candidates.insert(0, photos_dir / finding.photo)
    for candidate in candidates:
        record = by_path.get(candidate.resolve())
        if record is not None:
            return record
    named = [r for r in survey.photos if r.meta.path.name == Path(finding.photo).name]
    if len(named) == 1:
        return named[0]
    failed = {e.file.name: e.error for e in survey.errors}
    if Path(finding.photo).name in failed:
        raise InputError(
            f"photo {finding.photo!r} could not be read: {failed[Path(finding.photo).name]}",
            field=f"{where}.photo",
        )
    raise InputError(
        f"photo {finding.photo!r} is not among the photos read"
        + (f" from {photos_dir}" if photos_dir is not None else ""),
        field=f"{where}.photo",
    )


def _ranges(numbers: Sequence[int]) -> str:
    """``[1, 2, 3, 7, 9, 10]`` -> ``"1-3, 7, 9-10"``."""
    parts: list[str] = []
    ordered = sorted(set(numbers))
    k = 0
    while k < len(ordered):
        start = end = ordered[k]
        while k + 1 < len(ordered) and ordered[k + 1] == end + 1:
            k += 1
            end = ordered[k]
        parts.append(str(start) if start == end else f"{start}-{end}")
        k += 1
    return ", ".join(parts)


def _t(text: Mapping[str, str], lang: str) -> str:
    return str(text.get(lang) or text.get("en") or text.get("ja") or "")


def _facility_name(survey: PhotoSurvey, facility_id: str | None, lang: str) -> str:
    if facility_id is None:
        return LABELS["no_facility"][lang]
    if survey.site is not None:
        for f in survey.site.facilities:
            if f.id == facility_id:
                return f"{f.name} ({f.id})" if f.name != f.id else f.id
    return facility_id


def _facility_order(survey: PhotoSurvey) -> dict[str | None, int]:
    order: dict[str | None, int] = {}
    if survey.site is not None:
        order = {f.id: k for k, f in enumerate(survey.site.facilities)}
    return order


def _time_span(records: Sequence[PhotoRecord]) -> str:
    # naive times (no offset recorded) are taken as UTC only for ordering
    times = sorted(
        (r.meta.time for r in records if r.meta.time is not None),
        key=lambda t: t.replace(tzinfo=None) - (t.utcoffset() or timedelta(0)),
    )
    if not times:
        return "-"
    first, last = times[0], times[-1]
    if first.date() == last.date():
        return f"{first.isoformat(timespec='minutes')} – {last.strftime('%H:%M')}"
    return f"{first.isoformat(timespec='minutes')} – {last.isoformat(timespec='minutes')}"


def _finding_sections(
    findings: Sequence[Finding],
    survey: PhotoSurvey,
    photos_dir: Path | None,
    lang: str,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Findings grouped by facility, and the high-risk ones for the conventional list."""
    defects, levels, threshold, _ = _data()
    known = None if survey.site is None else {f.id for f in survey.site.facilities}
    groups: dict[str | None, list[dict[str, Any]]] = {}
    high_risk: list[dict[str, Any]] = []
    for k, finding in enumerate(findings):
        where = f"findings[{k}]"
        record = _record_for(finding, photos_dir, survey, where)
        facility = finding.facility or record.facility_id
        if finding.facility and known is not None and finding.facility not in known:
            raise InputError(
                f"unknown facility {finding.facility!r}; the site has {', '.join(sorted(known))}",
                field=f"{where}.facility",
            )
        defect = defects[finding.defect]
        row: dict[str, Any] = {
            "id": finding.id,
            "thumbnail": _thumbnail(record, finding.region, where),
            "photo": record.meta.path.name,
            "photo_time": "-"
            if record.meta.time is None
            else record.meta.time.isoformat(timespec="seconds"),
            "region": f"x {finding.region.x}, y {finding.region.y}, "
            f"{finding.region.w} x {finding.region.h} px",
            "defect": _t(defect.name, lang),
            "image_limit": _t(defect.image_limit, lang),
            "citation": defect.citation,
            "severity": _t(levels[finding.severity].name, lang),
            "severity_level": finding.severity,
            "note": finding.note,
            "inspector": finding.inspector,
            "time": finding.time.isoformat(timespec="minutes"),
            "facility": _facility_name(survey, facility, lang),
            "gsd_cm": None if record.gsd_cm is None else f"{record.gsd_cm:.2f}",
        }
        groups.setdefault(facility, []).append(row)
        if finding.severity >= threshold:
            high_risk.append(row)
    order = _facility_order(survey)
    sections: list[dict[str, Any]] = [
        {
            "facility": _facility_name(survey, facility, lang),
            "rows": sorted(rows, key=lambda r: (-int(r["severity_level"]), str(r["id"]))),
        }
        for facility, rows in sorted(
            groups.items(), key=lambda item: (order.get(item[0], len(order)), str(item[0]))
        )
    ]
    high_risk.sort(key=lambda r: (-int(r["severity_level"]), str(r["id"])))
    return sections, high_risk


def _conventional(survey: PhotoSurvey, lang: str) -> dict[str, Any]:
    """Blind spots, parts not flown and shots not taken."""
    action_key = "action_ja" if lang == "ja" else "action"
    if survey.coverage is not None:
        spots = list(survey.coverage.report.conventional_inspection)
        blind_title = LABELS["blind_spots"][lang]
    else:
        spots = list(
            ((survey.plan.coverage if survey.plan else None) or {}).get("conventional_inspection")
            or []
        )
        blind_title = LABELS["blind_spots_planned"][lang]
    blind = [
        {
            "facility": f"{s.get('name') or s.get('facility_id')} ({s.get('facility_id')})",
            "action": str(s.get(action_key) or s.get("action") or ""),
            "area_m2": s.get("area_m2"),
            "citation": s.get("citation", ""),
        }
        for s in spots
    ]
    not_flown: dict[str, dict[str, Any]] = {}
    for row in (survey.plan.plan.get("skipped") if survey.plan else None) or []:
        key = str(row.get("facility_id") or "-")
        entry = not_flown.setdefault(
            key, {"facility": _facility_name(survey, key, lang), "parts": [], "reasons": []}
        )
        entry["parts"].append(str(row.get("part") or ""))
        reason = str(row.get("reason") or "")
        if reason and reason not in entry["reasons"]:
            entry["reasons"].append(reason)
    missing: dict[str | None, list[Any]] = {}
    for shot in survey.not_taken:
        missing.setdefault(shot.facility_id, []).append(shot)
    order = _facility_order(survey)
    not_taken = [
        {
            "facility": _facility_name(survey, facility, lang),
            "count": len(shots),
            "shots": _ranges([s.shot for s in shots]),
            "sorties": _ranges([s.sortie + 1 for s in shots]),
        }
        for facility, shots in sorted(
            missing.items(), key=lambda item: (order.get(item[0], len(order)), str(item[0]))
        )
    ]
    return {
        "blind_title": blind_title,
        "blind": blind,
        "not_flown": list(not_flown.values()),
        "not_taken": not_taken,
    }


def _photo_rows(survey: PhotoSurvey, lang: str) -> list[dict[str, Any]]:
    groups: dict[str | None, list[PhotoRecord]] = {}
    for record in survey.photos:
        groups.setdefault(record.facility_id, []).append(record)
    order = _facility_order(survey)
    rows = []
    for facility, records in sorted(
        groups.items(), key=lambda item: (order.get(item[0], len(order)), str(item[0]))
    ):
        gsds = [r.gsd_cm for r in records if r.gsd_cm is not None]
        rows.append(
            {
                "facility": _facility_name(survey, facility, lang),
                "count": len(records),
                "gsd": "-" if not gsds else f"{min(gsds):.2f} – {max(gsds):.2f}",
                "time": _time_span(records),
            }
        )
    return rows


def _coverage_pct(report_totals: Mapping[str, Any] | None) -> str:
    if not report_totals or report_totals.get("coverage_pct") is None:
        return "-"
    return f"{float(report_totals['coverage_pct']):.1f} %"


def render_inspection_report(
    plan_dir: str | Path,
    photos: str | Path | PhotoSurvey,
    findings: Sequence[Finding] | str | Path,
    lang: str = "ja",
    *,
    today: date | None = None,
) -> str:
    """The inspection report as an HTML document (see the module notes).

    Parameters
    ----------
    plan_dir
        The plan folder the flight followed (``plan.json``, ``coverage.json``,
        ``site.geojson``).
    photos
        The photos folder, or a survey already made with
        :func:`~plantwatch.drone.photos.survey_photos` for this plan.
    findings
        Findings, or a YAML file of them (:func:`load_findings`).
    lang
        ``"ja"`` or ``"en"``.
    today
        Date printed on the report (default: today).

    Raises
    ------
    InputError
        Bad language, plan folder, photos or findings (a finding's photo not among the photos,
        its region outside the photo, an unknown facility).
    """
    from plantwatch.drone.documents import FONT_FAMILY, _environment, check_lang

    check_lang(lang)
    if isinstance(photos, PhotoSurvey):
        survey = photos
        photos_dir = None
    else:
        photos_dir = Path(photos)
        survey = survey_photos([photos_dir], plan_dir=plan_dir)
    if survey.plan is None:
        raise InputError("the survey was made without the plan folder", field="photos")
    items = load_findings(findings) if isinstance(findings, str | Path) else list(findings)
    sections, high_risk = _finding_sections(items, survey, photos_dir, lang)
    levels = severities()
    counts = {level: sum(f.severity == level for f in items) for level in levels}
    shots = survey.plan.shots
    planned_totals = (survey.plan.coverage or {}).get("totals")
    actual_totals = None
    if survey.coverage is not None:
        report = survey.coverage.report
        actual_totals = {"coverage_pct": report.coverage_pct}
    _, _, threshold, conventional_citation = _data()
    labels = {key: value[lang] for key, value in LABELS.items()}
    notes = [*survey.notes, *(survey.coverage.notes if survey.coverage else ())]
    context = {
        "lang": lang,
        "L": labels,
        "title": labels["title"],
        "site_name": survey.site.name if survey.site is not None else "-",
        "plan_dir": str(survey.plan.path),
        "photos_dir": "-" if photos_dir is None else str(photos_dir),
        "prepared": (today or date.today()).isoformat(),
        "inspectors": ", ".join(sorted({f.inspector for f in items})) or "-",
        "photos_read": len(survey.photos),
        "errors": [{"file": e.file.name, "error": e.error} for e in survey.errors],
        "time_span": _time_span(survey.photos),
        "shots": f"{len(shots)} / {len(shots) - len(survey.not_taken)} / {len(survey.not_taken)}",
        "coverage_planned": _coverage_pct(planned_totals),
        "coverage_actual": _coverage_pct(actual_totals),
        "severity_counts": [
            {"name": _t(levels[level].name, lang), "count": count}
            for level, count in counts.items()
        ],
        "finding_count": len(items),
        "sections": sections,
        "conventional": _conventional(survey, lang),
        "high_risk": high_risk,
        "threshold_name": _t(levels[threshold].name, lang),
        "conventional_citation": conventional_citation,
        "photo_rows": _photo_rows(survey, lang),
        "notes": notes,
    }
    template = _environment().get_template("inspection_report.html")
    return str(template.render(font_family=FONT_FAMILY, **context))


def write_inspection_report(
    plan_dir: str | Path,
    photos_dir: str | Path,
    findings: Sequence[Finding] | str | Path,
    lang: str = "ja",
    *,
    html_path: str | Path | None = None,
    pdf_path: str | Path | None = None,
    today: date | None = None,
) -> tuple[Path, ...]:
    """Render the report and write it as HTML and/or PDF (each atomically).

    Raises
    ------
    InputError
        Neither path given, or bad input (see :func:`render_inspection_report`).
    DependencyError
        PDF asked for and WeasyPrint missing.
    """
    from plantwatch.drone.documents import html_to_pdf
    from plantwatch.fileio import atomic_write_bytes as _atomic_write_bytes

    if html_path is None and pdf_path is None:
        raise InputError("give an HTML and/or a PDF output path", field="--out")
    html = render_inspection_report(plan_dir, photos_dir, findings, lang, today=today)
    pdf = html_to_pdf(html) if pdf_path is not None else None  # render before writing anything
    written: list[Path] = []
    if html_path is not None:
        _atomic_write_bytes(Path(html_path), html.encode("utf-8"))
        written.append(Path(html_path))
    if pdf_path is not None and pdf is not None:
        _atomic_write_bytes(Path(pdf_path), pdf)
        written.append(Path(pdf_path))
    return tuple(written)
