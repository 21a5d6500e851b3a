"""Flight-plan documents and checklists: HTML and PDF in Japanese and English.

The flight plan (飛行計画書) follows MHLW-2022 §3.1: the items of Table 3.1 (date and time,
purpose, capture method, targets, flight-area state, route, crew and organisation, legal
compliance), the risk assessment and countermeasures of Table 3.2, the accident response
(§3.1 (4)), plus what plantwatch knows that paper does not: the coverage the route achieves and
the spots left to conventional inspection (``coverage.json``). It is rendered from Jinja2
templates (``plantwatch/templates``) to HTML and, with WeasyPrint, to PDF; Japanese text uses the
Noto Sans CJK font installed by ``setup.sh`` (Debian ``fonts-noto-cjk``).

Checklists (Tables 3.3, 4.1-4.9, data under ``data/checklists``) print as text or as an HTML form
with ok / ng / note columns and signature boxes, and are filled as :class:`ChecklistRun` records
appended to a hash-chained, append-only JSONL file: a completed run cannot be edited.
:func:`evaluate_run` says whether the flight may go ahead (every item whose failure stops the
flight answered ``ok`` or ``na``).

Regulatory content (checklist items, rules, risks, crew roles) comes from the YAML data through
``plantwatch.drone.regdata``; this module only holds the words of the document's own frame
(headings, column names) in both languages.
"""

from __future__ import annotations

import base64
import importlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, is_dataclass
from datetime import date, datetime
from enum import Enum
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from markupsafe import Markup, escape
from pydantic import BaseModel, Field, ValidationError, field_validator

from plantwatch.drone.approval import (
    CHECKLIST_RUNS_FILE,
    append_record,
    approval_status,
    check_plan_dir,
    read_records,
)
from plantwatch.errors import DataError, DependencyError, InputError
from plantwatch.fileio import atomic_write_bytes as _atomic_write_bytes

__all__ = [
    "CHECKLIST_RUNS_FILE",
    "FONT_FAMILY",
    "LANGS",
    "TABLE_3_1_HEADINGS",
    "ChecklistRun",
    "ItemResult",
    "append_run",
    "available_tables",
    "check_lang",
    "evaluate_run",
    "html_to_pdf",
    "load_checklist_data",
    "load_runs",
    "render_checklist_html",
    "render_checklist_text",
    "render_flight_plan_html",
    "write_checklist_html",
    "write_flight_plan",
]

LANGS: tuple[str, ...] = ("ja", "en")
FONT_FAMILY = '"Noto Sans CJK JP", "Noto Sans JP", sans-serif'
# SCHEMA.md predicate `near_hazardous_area`: within 30 m of a Zone 0/1/2 or fire-restricted area
NEAR_HAZARDOUS_AREA_M = 30.0
HAZARDOUS_KINDS: tuple[str, ...] = ("zone0", "zone1", "zone2", "fire_restricted")
STATUS_ORDER: tuple[str, ...] = ("prohibited", "permit_required", "confirm", "ok")

Text = dict[str, str]  # {"en": ..., "ja": ...}

# MHLW-2022 Table 3.1 (seed 004 lines 813-822): the items a flight plan must state.
TABLE_3_1_HEADINGS: dict[str, Text] = {
    "datetime": {"ja": "日時", "en": "Date and time"},
    "purpose": {"ja": "目的", "en": "Purpose"},
    "capture": {"ja": "撮影方法", "en": "Capture method"},
    "targets": {"ja": "撮影対象", "en": "Targets"},
    "area_state": {"ja": "飛行エリアの状態", "en": "Flight-area state"},
    "route": {"ja": "飛行ルート", "en": "Flight route"},
    "crew": {"ja": "運用体制", "en": "Crew and organisation"},
    "compliance": {"ja": "法令遵守", "en": "Legal compliance"},
}

LABELS: dict[str, Text] = {
    "doc_title": {"ja": "飛行計画書", "en": "Flight plan"},
    "site": {"ja": "対象事業所", "en": "Site"},
    "plan_folder": {"ja": "計画フォルダ", "en": "Plan folder"},
    "prepared": {"ja": "作成日", "en": "Prepared on"},
    "approval_state": {"ja": "承認状況", "en": "Approval status"},
    "sec_plan": {
        "ja": "1. 飛行目的・計画（表 3.1）",
        "en": "1. Purpose and plan of the flight (Table 3.1)",
    },
    "sec_risk": {
        "ja": "2. リスクアセスメント及びリスク対策（表 3.2）",
        "en": "2. Risk assessment and countermeasures (Table 3.2)",
    },
    "sec_accident": {"ja": "3. 事故対処方法", "en": "3. Accident response"},
    "sec_coverage": {
        "ja": "4. 撮影範囲と従来点検が必要な箇所",
        "en": "4. Coverage and spots for conventional inspection",
    },
    "sec_approval": {"ja": "5. 承認", "en": "5. Approval"},
    "date": {"ja": "飛行日", "en": "Date"},
    "time": {"ja": "飛行時間帯", "en": "Time"},
    "flight_time_total": {"ja": "予定飛行時間（合計）", "en": "Planned flight time (total)"},
    "sorties": {"ja": "フライト数（バッテリー交換回数+1）", "en": "Sorties (batteries)"},
    "camera": {"ja": "カメラ", "en": "Camera"},
    "gsd": {"ja": "目標地上画素寸法（GSD）", "en": "Target ground sample distance (GSD)"},
    "photos": {"ja": "撮影枚数", "en": "Photos"},
    "standoff": {"ja": "設備との離隔", "en": "Stand-off from structures"},
    "facility": {"ja": "設備", "en": "Facility"},
    "name": {"ja": "名称", "en": "Name"},
    "type": {"ja": "種別", "en": "Type"},
    "coverage_pct": {"ja": "撮影範囲 [%]", "en": "Coverage [%]"},
    "not_flown": {"ja": "飛行しない部分（理由）", "en": "Parts not flown (reason)"},
    "zone": {"ja": "区域", "en": "Area"},
    "kind": {"ja": "区分", "en": "Kind"},
    "distance": {"ja": "ルートからの最短距離", "en": "Closest approach of the route"},
    "waypoints_inside": {"ja": "区域内の経由点", "en": "Waypoints inside"},
    "assessment": {"ja": "判定", "en": "Assessment"},
    "conditions": {"ja": "飛行条件", "en": "Flight conditions"},
    "sortie": {"ja": "フライト", "en": "Sortie"},
    "distance_m": {"ja": "飛行距離", "en": "Distance"},
    "duration": {"ja": "飛行時間", "en": "Flight time"},
    "waypoint_count": {"ja": "経由点数", "en": "Waypoints"},
    "max_height": {"ja": "最高高度（離陸地点から）", "en": "Highest waypoint (above take-off)"},
    "route_map": {"ja": "飛行ルート図", "en": "Route map"},
    "coverage_map": {"ja": "撮影範囲図", "en": "Coverage map"},
    "pilot": {"ja": "操縦者", "en": "Pilot"},
    "aircraft": {"ja": "機体", "en": "Aircraft"},
    "role": {"ja": "役割", "en": "Role"},
    "person": {"ja": "担当者", "en": "Person"},
    "required": {"ja": "必須", "en": "Required"},
    "unassigned": {"ja": "未配置", "en": "unassigned"},
    "status": {"ja": "判定", "en": "Status"},
    "item": {"ja": "項目", "en": "Item"},
    "citation": {"ja": "根拠", "en": "Citation"},
    "details": {"ja": "内容", "en": "Details"},
    "permit": {"ja": "必要な許可・承認", "en": "Permit"},
    "deadline": {"ja": "申請期限", "en": "Apply by"},
    "question": {"ja": "確認事項", "en": "To confirm"},
    "hazard": {"ja": "リスク", "en": "Hazard"},
    "mitigations": {"ja": "リスク対策", "en": "Countermeasures"},
    "group": {"ja": "区分", "en": "Group"},
    "likelihood": {"ja": "発生可能性", "en": "Likelihood"},
    "severity": {"ja": "重大性", "en": "Severity"},
    "risk_score": {"ja": "リスク（可能性×重大性）", "en": "Risk (likelihood × severity)"},
    "residual": {"ja": "対策後リスク", "en": "Residual risk"},
    "risk_notes": {"ja": "所見", "en": "Notes"},
    "fall_range": {"ja": "落下範囲（表 3.2 a1）", "en": "Fall range (Table 3.2 a1)"},
    "wind": {"ja": "予報風速", "en": "Forecast wind"},
    "max_range": {"ja": "最大落下範囲", "en": "Largest fall range"},
    "method": {"ja": "計算方法", "en": "Method"},
    "height_band": {"ja": "高度帯（上端）", "en": "Height band (top)"},
    "speed": {"ja": "最大速度", "en": "Highest speed"},
    "reach": {"ja": "落下範囲が及ぶ区域・設備", "en": "What the fall range reaches"},
    "overlap": {"ja": "重なる面積", "en": "Overlap"},
    "controlled": {"ja": "立入管理", "en": "Access controlled"},
    "reach_none": {"ja": "なし", "en": "nothing"},
    "matrix_note": {
        "ja": "発生可能性 1（まれ）〜5（頻繁）、重大性 1（軽微）〜5（致命的）。対策後リスク = "
        "対策後の発生可能性 × 対策後の重大性。",
        "en": "Likelihood 1 (rare) to 5 (frequent), severity 1 (negligible) to 5 (catastrophic). "
        "Residual risk = likelihood × severity after the countermeasures.",
    },
    "no_compliance": {
        "ja": "法令・社内規則の適合判定は行われていません（判定モジュールが利用できません）。"
        "`plantwatch drone check` で確認してください。",
        "en": "Legal and internal-rule compliance was not evaluated (the compliance engine is not "
        "available); check it with `plantwatch drone check`.",
    },
    "no_risks": {
        "ja": "リスクアセスメントは含まれていません（リスク選定モジュールが利用できません）。",
        "en": "The risk assessment is not included (risk selection is not available).",
    },
    "compliance_counts": {"ja": "判定の内訳", "en": "Findings"},
    "may_proceed": {
        "ja": "すべての項目が適合しています。",
        "en": "Every item is OK.",
    },
    "must_act": {
        "ja": "飛行不可の項目がなく、必要な許可・承認を得て、要確認の項目を確認した場合に限り"
        "飛行できます。",
        "en": "The flight may go ahead only with no prohibited item, every permit granted "
        "and every item to confirm confirmed.",
    },
    "accident_contacts": {"ja": "緊急連絡先・体制", "en": "Emergency contacts and organisation"},
    "accident_none": {
        "ja": "運用ファイルに緊急連絡体制の記載がありません。飛行前に記入してください"
        "（警察署・消防署・航空局への連絡体制、MHLW-2022 §3.1 (4)）。",
        "en": "The operation file gives no emergency contacts; fill them in before the flight "
        "(police, fire service, Civil Aviation Bureau; MHLW-2022 §3.1 (4)).",
    },
    "coverage_totals": {"ja": "撮影範囲の概要", "en": "Coverage summary"},
    "coverage_seen": {"ja": "点検対象面のうち撮影できる割合", "en": "Inspectable surface seen"},
    "area": {"ja": "面積", "en": "Area"},
    "conventional": {"ja": "従来点検が必要な箇所", "en": "Spots for conventional inspection"},
    "conventional_none": {"ja": "なし", "en": "none"},
    "planner_sign": {"ja": "飛行計画立案者", "en": "Flight-plan author"},
    "approver_sign": {"ja": "飛行計画承認者", "en": "Flight-plan approver"},
    "signature": {"ja": "署名", "en": "Signature"},
    "date_signed": {"ja": "日付", "en": "Date"},
    "history": {"ja": "承認履歴", "en": "Approval history"},
    "action": {"ja": "操作", "en": "Action"},
    "when": {"ja": "日時", "en": "When"},
    "by": {"ja": "実施者", "en": "By"},
    "comment": {"ja": "コメント", "en": "Comment"},
    "version": {"ja": "版", "en": "Version"},
    "yes": {"ja": "はい", "en": "yes"},
    "no_yesno": {"ja": "いいえ", "en": "no"},
    "not_given": {"ja": "（記載なし）", "en": "(not given)"},
    "page": {"ja": "ページ", "en": "page"},
    "legend_route": {
        "ja": "線: フライトごとの飛行経路、▲: 離着陸地点、赤: 危険区域（Zone 0/1/2）、"
        "紫: 火気制限区域、青: 人・道路、灰: 飛行禁止",
        "en": "Lines: flight path per sortie; ▲ take-off; red: hazardous areas (Zone 0/1/2); "
        "purple: fire-restricted; blue: people and roads; grey: no-fly",
    },
    # checklists
    "checklist": {"ja": "チェックリスト", "en": "Checklist"},
    "table": {"ja": "表", "en": "Table"},
    "no": {"ja": "No.", "en": "No."},
    "ok": {"ja": "良", "en": "OK"},
    "ng": {"ja": "否", "en": "NG"},
    "na": {"ja": "対象外", "en": "N/A"},
    "note": {"ja": "備考", "en": "Note"},
    "stops_flight": {"ja": "飛行中止", "en": "stops flight"},
    "auto": {"ja": "自動確認", "en": "checked by the system"},
    "checked_by": {"ja": "確認者", "en": "Checked by"},
    "confirmed_by": {"ja": "責任者確認", "en": "Confirmed by"},
    "checklist_note": {
        "ja": "「飛行中止」の項目が「否」の場合は飛行しないこと。",
        "en": "Do not fly when an item marked 'stops flight' is NG.",
    },
    "operation": {"ja": "飛行計画・作業", "en": "Operation"},
}
STATUS_LABELS: dict[str, Text] = {
    "ok": {"ja": "適合", "en": "OK"},
    "permit_required": {"ja": "許可・承認が必要", "en": "Permit required"},
    "prohibited": {"ja": "飛行不可", "en": "Prohibited"},
    "confirm": {"ja": "要確認", "en": "Confirm"},
}
AREA_ASSESSMENT: dict[str, Text] = {
    "inside": {"ja": "区域内を飛行（防爆機のみ可）", "en": "flies inside (explosion-proof only)"},
    "near": {"ja": "近傍（30 m 以内）", "en": "near (within 30 m)"},
    "clear": {"ja": "離隔あり", "en": "clear"},
}
AREA_STATE_SUMMARY: dict[str, Text] = {
    # Table 3.1 "飛行エリアの状態" examples (seed 004 line 819), in our words
    "clear": {
        "ja": "爆発性雰囲気を生成する可能性がなく火気の制限がないエリア"
        "（危険区域から 30 m 以上離れる）",
        "en": "An area that cannot form an explosive atmosphere and has no fire restriction (the "
        "route stays 30 m or more from every hazardous area)",
    },
    "near": {
        "ja": "爆発性雰囲気を生成する可能性があるエリアの近傍、または火気の制限があるエリアの近傍"
        "（表 3.2 (b) のリスク対策、表 4.4・4.7 の確認が必要）",
        "en": "Near an area that may form an explosive atmosphere or near a fire-restricted area "
        "(Table 3.2 (b) countermeasures and Tables 4.4 and 4.7 checks apply)",
    },
    "inside": {
        "ja": "爆発性雰囲気を生成する可能性があるエリア内、または火気の制限があるエリア内を飛行"
        "（防爆構造の機体に限る）",
        "en": "Flies inside an area that may form an explosive atmosphere or a fire-restricted "
        "area (explosion-proof aircraft only)",
    },
}
ZONE_KIND_LABELS: dict[str, Text] = {
    "zone0": {"ja": "特別危険箇所（Zone 0）", "en": "Zone 0"},
    "zone1": {"ja": "第一類危険箇所（Zone 1）", "en": "Zone 1"},
    "zone2": {"ja": "第二類危険箇所（Zone 2）", "en": "Zone 2"},
    "fire_restricted": {"ja": "火気制限区域", "en": "Fire-restricted area"},
    "no_fly": {"ja": "飛行禁止区域", "en": "No-fly area"},
    "people": {"ja": "人のいる区域", "en": "People"},
    "road": {"ja": "道路", "en": "Road"},
    "boundary": {"ja": "敷地境界", "en": "Site boundary"},
}
FACILITY_TYPE_LABELS: dict[str, Text] = {
    "fixed_roof_tank": {"ja": "固定屋根式タンク", "en": "fixed-roof tank"},
    "floating_roof_tank": {"ja": "浮き屋根式タンク", "en": "floating-roof tank"},
    "sphere": {"ja": "球形タンク", "en": "spherical tank"},
    "column": {"ja": "塔槽類", "en": "column"},
    "stack": {"ja": "煙突・フレアスタック", "en": "stack"},
    "pipe_rack": {"ja": "配管ラック", "en": "pipe rack"},
    "building": {"ja": "建屋", "en": "building"},
}
# Table 3.1 examples for purpose and capture method (seed 004 lines 816-817)
PURPOSE_LABELS: dict[str, Text] = {
    "equipment_inspection": {"ja": "設備の点検", "en": "Inspection of equipment"},
    "inspection": {"ja": "設備の点検", "en": "Inspection of equipment"},
    "building_inspection": {"ja": "建屋等プラント以外の点検", "en": "Inspection of buildings"},
    "site_patrol": {"ja": "敷地の巡回", "en": "Site patrol"},
    "patrol": {"ja": "敷地の巡回", "en": "Site patrol"},
    "evacuation_drill": {"ja": "避難訓練", "en": "Evacuation drill"},
    "pr_video": {"ja": "PR 動画", "en": "Promotional video"},
}
CAPTURE_LABELS: dict[str, Text] = {
    "visible": {"ja": "可視光撮影（静止画）", "en": "Visible-light photos"},
    "still": {"ja": "静止画撮影", "en": "Still photos"},
    "photo": {"ja": "静止画撮影", "en": "Still photos"},
    "photos": {"ja": "静止画撮影", "en": "Still photos"},
    "video": {"ja": "動画撮影", "en": "Video"},
    "infrared": {"ja": "赤外線撮影", "en": "Infrared (thermal) imaging"},
    "thermal": {"ja": "赤外線撮影", "en": "Infrared (thermal) imaging"},
    "ir": {"ja": "赤外線撮影", "en": "Infrared (thermal) imaging"},
    "gas_camera": {"ja": "赤外線ガス可視化撮影", "en": "Infrared gas imaging"},
    "ogi": {"ja": "赤外線ガス可視化撮影", "en": "Infrared gas imaging"},
}
KEY_LABELS: dict[str, Text] = {
    "name": {"ja": "名称", "en": "Name"},
    "id": {"ja": "ID", "en": "ID"},
    "model": {"ja": "機種", "en": "Model"},
    "maker": {"ja": "製造者", "en": "Maker"},
    "manufacturer": {"ja": "製造者", "en": "Manufacturer"},
    "registration": {"ja": "登録記号", "en": "Registration"},
    "registration_number": {"ja": "登録記号", "en": "Registration"},
    "remote_id": {"ja": "リモートID", "en": "Remote ID"},
    "mass_g": {"ja": "重量 [g]", "en": "Mass [g]"},
    "weight_g": {"ja": "重量 [g]", "en": "Mass [g]"},
    "mass_kg": {"ja": "重量 [kg]", "en": "Mass [kg]"},
    "explosion_proof": {"ja": "防爆構造", "en": "Explosion-proof"},
    "explosion_proof_rating": {"ja": "防爆等級", "en": "Explosion-proof rating"},
    "ex_rating": {"ja": "防爆等級", "en": "Explosion-proof rating"},
    "flight_hours": {"ja": "飛行時間 [h]", "en": "Flight hours [h]"},
    "hours": {"ja": "飛行時間 [h]", "en": "Flight hours [h]"},
    "flight_hours_since_maintenance": {
        "ja": "前回整備後の飛行時間 [h]",
        "en": "Hours since maintenance [h]",
    },
    "max_wind_m_s": {"ja": "耐風性能 [m/s]", "en": "Wind limit [m/s]"},
    "wind_limit_m_s": {"ja": "耐風性能 [m/s]", "en": "Wind limit [m/s]"},
    "licence": {"ja": "技能証明", "en": "Licence"},
    "license": {"ja": "技能証明", "en": "Licence"},
    "certificate": {"ja": "技能証明", "en": "Certificate"},
    "organisation": {"ja": "所属", "en": "Organisation"},
    "organization": {"ja": "所属", "en": "Organisation"},
    "company": {"ja": "所属", "en": "Company"},
    "contact": {"ja": "連絡先", "en": "Contact"},
    "phone": {"ja": "電話", "en": "Phone"},
    "visual_line_of_sight": {"ja": "目視内飛行", "en": "Within visual line of sight"},
    "daylight": {"ja": "日中の飛行", "en": "Daytime flight"},
    "tethered": {"ja": "係留飛行", "en": "Tethered"},
    "indoor": {"ja": "屋内飛行", "en": "Indoor flight"},
    "third_party_area_closed": {"ja": "第三者の立入管理", "en": "Third-party access closed"},
    "event": {"ja": "催し場所上空", "en": "Over an event"},
    "dangerous_goods": {"ja": "危険物の輸送", "en": "Dangerous goods carried"},
    "dropping": {"ja": "物件投下", "en": "Dropping objects"},
    "wind_m_s": {"ja": "予報風速 [m/s]", "en": "Forecast wind [m/s]"},
    "wind_forecast_m_s": {"ja": "予報風速 [m/s]", "en": "Forecast wind [m/s]"},
    "wind_stop_m_s": {"ja": "飛行中止風速 [m/s]", "en": "Stop-flight wind [m/s]"},
    "hours_since_maintenance": {
        "ja": "前回整備後の飛行時間 [h]",
        "en": "Hours since maintenance [h]",
    },
    "radios": {"ja": "使用電波", "en": "Radio links"},
    "band_ghz": {"ja": "周波数帯 [GHz]", "en": "Band [GHz]"},
    "licensed": {"ja": "無線局免許", "en": "Radio-station licence"},
    "skills_evidence": {"ja": "技能の証跡", "en": "Skills evidence"},
    "permits": {"ja": "取得済みの許可・承認", "en": "Permits held"},
    "reference": {"ja": "許可番号", "en": "Reference"},
    "valid_until": {"ja": "有効期限", "en": "Valid until"},
    "airspace": {"ja": "空域データ", "en": "Airspace layers"},
    "stop_wind_m_s": {"ja": "飛行中止風速 [m/s]", "en": "Stop-flight wind [m/s]"},
    "radio": {"ja": "使用電波", "en": "Radio links"},
    "confirmations": {"ja": "確認済み事項", "en": "Recorded confirmations"},
    "emergency_airspace": {"ja": "緊急用務空域", "en": "Emergency-use airspace"},
    "observers": {"ja": "監視員数", "en": "Observers"},
    "site": {"ja": "事業所", "en": "Site"},
    "band": {"ja": "周波数帯", "en": "Band"},
    "power_mw": {"ja": "出力 [mW]", "en": "Power [mW]"},
    "certified": {"ja": "技術基準適合（技適）", "en": "Technical conformity (技適)"},
}
_CONSUMED_OP_KEYS = frozenset(
    {
        "date",
        "start_time",
        "end_time",
        "purpose",
        "capture",
        "aircraft",
        "pilot",
        "crew",
        "emergency",
        "emergency_contacts",
        "today",
    }
)

# --------------------------------------------------------------------------- small helpers


def check_lang(lang: str) -> str:
    """Return ``lang`` if it is a supported document language, else raise InputError."""
    if lang not in LANGS:
        raise InputError(f"unknown language {lang!r}; valid: {', '.join(LANGS)}", field="--lang")
    return lang


def _plain(value: Any) -> Any:
    """Pydantic models, dataclasses, enums, dates -> plain JSON-like Python values."""
    if isinstance(value, BaseModel):
        return _plain(value.model_dump())
    if is_dataclass(value) and not isinstance(value, type):
        return _plain(asdict(value))
    if isinstance(value, Enum):
        return _plain(value.value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat(timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "isoformat"):  # datetime.time
        return str(value.isoformat())[:5]
    return value


def _is_text(value: Any) -> bool:
    return (
        isinstance(value, Mapping)
        and ("ja" in value or "en" in value)
        and all(isinstance(v, str) for v in value.values())
    )


def _t(value: Any, lang: str) -> str:
    """Bilingual mapping (or plain value) -> text in ``lang`` (the other language as fallback)."""
    value = _plain(value)
    if value is None:
        return ""
    if _is_text(value):
        other = "en" if lang == "ja" else "ja"
        return str(value.get(lang) or value.get(other) or "")
    return str(value)


def _fmt(value: Any, lang: str) -> str:
    """Any operation-file value as display text."""
    value = _plain(value)
    if value is None or value == "":
        return LABELS["not_given"][lang]
    if isinstance(value, bool):
        return LABELS["yes"][lang] if value else LABELS["no_yesno"][lang]
    if isinstance(value, float):
        return f"{value:g}"
    if _is_text(value):
        return _t(value, lang)
    if isinstance(value, Mapping):
        return (
            "; ".join(f"{_key_label(k, lang)}: {_fmt(v, lang)}" for k, v in value.items())
            or LABELS["not_given"][lang]
        )
    if isinstance(value, list):
        return ", ".join(_fmt(v, lang) for v in value) or LABELS["not_given"][lang]
    return str(value)


def _key_label(key: str, lang: str) -> str:
    if key in KEY_LABELS:
        return KEY_LABELS[key][lang]
    return key.replace("_", " ")


def _rows(mapping: Any, lang: str) -> list[tuple[str, str]]:
    mapping = _plain(mapping)
    if not isinstance(mapping, Mapping):
        return [] if mapping in (None, "") else [("", _fmt(mapping, lang))]
    return [(_key_label(k, lang), _fmt(v, lang)) for k, v in mapping.items() if v is not None]


def _optional_attr(module: str, name: str) -> Any:
    """``module.name`` or None when the module or the name does not exist (yet)."""
    try:
        mod = importlib.import_module(module)
    except ImportError:
        return None
    return getattr(mod, name, None)


# --------------------------------------------------------------------------- templates / PDF


@lru_cache(maxsize=1)
def _environment() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("plantwatch", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def _render(template: str, **context: Any) -> str:
    return str(_environment().get_template(template).render(font_family=FONT_FAMILY, **context))


def html_to_pdf(html: str, base_url: str | None = None) -> bytes:
    """Render an HTML document to PDF bytes with WeasyPrint.

    Raises
    ------
    DependencyError
        WeasyPrint (or its Pango libraries) is not installed.
    """
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: Pango/cairo shared libraries missing
        raise DependencyError(
            f"PDF output needs WeasyPrint and its Pango libraries ({exc}); install weasyprint"
        ) from exc
    pdf = weasyprint.HTML(string=html, base_url=base_url).write_pdf()
    if not isinstance(pdf, bytes):  # pragma: no cover - write_pdf() without target returns bytes
        raise DataError("WeasyPrint returned no PDF")
    return pdf


# --------------------------------------------------------------------------- plan folder


@dataclass(frozen=True)
class _PlanFolder:
    path: Path
    plan: dict[str, Any]
    coverage: dict[str, Any] | None
    site: Any  # plantwatch.drone.model.Site | None
    coverage_png: bytes | None

    def waypoints(self) -> list[dict[str, Any]]:
        fields = list(self.plan.get("waypoint_fields") or [])
        return [dict(zip(fields, row, strict=False)) for row in self.plan.get("waypoints") or []]


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read {path.name} ({exc})", field=str(path)) from exc
    if not isinstance(data, dict):
        raise InputError("must hold a JSON object", field=str(path))
    return data


def _load_plan_folder(plan_dir: str | Path) -> _PlanFolder:
    folder = check_plan_dir(plan_dir)
    plan = _read_json(folder / "plan.json")
    coverage = (
        _read_json(folder / "coverage.json") if (folder / "coverage.json").is_file() else None
    )
    site = None
    if (folder / "site.geojson").is_file():
        from plantwatch.drone.site import load_site

        site = load_site(folder / "site.geojson")
    png = (folder / "coverage.png").read_bytes() if (folder / "coverage.png").is_file() else None
    return _PlanFolder(folder, plan, coverage, site, png)


# --------------------------------------------------------------------------- flight-plan parts


def _route_by_sortie(folder: _PlanFolder) -> dict[int, list[tuple[float, float, float]]]:
    sorties: dict[int, list[tuple[float, float, float]]] = {}
    for wp in folder.waypoints():
        try:
            point = (float(wp["x_m"]), float(wp["y_m"]), float(wp["z_m"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(
                f"plan.json waypoint {wp!r} lacks x_m/y_m/z_m", field="plan.json"
            ) from exc
        sorties.setdefault(int(wp.get("sortie") or 0), []).append(point)
    return sorties


def _area_state(folder: _PlanFolder, lang: str) -> dict[str, Any]:
    """Closest approach of the route to every hazardous / restricted zone of the site."""
    import numpy as np
    import shapely
    from shapely.geometry import LineString, Point

    from plantwatch.drone.site import zone_contains, zone_polygon

    site = folder.site
    rows: list[dict[str, str]] = []
    worst = "clear"
    if site is None:
        return {"rows": rows, "summary": "", "worst": worst}
    sorties = _route_by_sortie(folder)
    paths = [
        LineString([(x, y) for x, y, _ in pts]) if len(pts) > 1 else Point(pts[0][:2])
        for pts in sorties.values()
        if pts
    ]
    route = shapely.union_all(paths) if paths else None
    points = np.array([p for pts in sorties.values() for p in pts], dtype=float).reshape(-1, 3)
    rank = {"clear": 0, "near": 1, "inside": 2}
    for zone in site.zones:
        if zone.kind not in (*HAZARDOUS_KINDS, "no_fly"):
            continue
        polygon = zone_polygon(zone)
        distance = float(route.distance(polygon)) if route is not None else float("nan")
        inside = int(np.count_nonzero(zone_contains(zone, points))) if len(points) else 0
        assessment = "inside" if inside else "near" if distance < NEAR_HAZARDOUS_AREA_M else "clear"
        if zone.kind in HAZARDOUS_KINDS and rank[assessment] > rank[worst]:
            worst = assessment
        name = zone.properties.get("name") or ""
        rows.append(
            {
                "id": zone.id,
                "name": str(name),
                "kind": ZONE_KIND_LABELS.get(zone.kind, {"ja": zone.kind, "en": zone.kind})[lang],
                "distance": f"{distance:.0f} m" if np.isfinite(distance) else "-",
                "inside": str(inside),
                "assessment": AREA_ASSESSMENT[assessment][lang],
                "level": assessment,
            }
        )
    rows.sort(key=lambda r: (-rank[r["level"]], r["id"]))
    return {"rows": rows, "summary": AREA_STATE_SUMMARY[worst][lang], "worst": worst}


_SVG_W, _SVG_H = 700.0, 420.0
_ZONE_STYLE: dict[str, tuple[str, str]] = {
    "zone0": ("#b71c1c", "#ef9a9a"),
    "zone1": ("#d32f2f", "#ffcdd2"),
    "zone2": ("#ef6c00", "#ffe0b2"),
    "fire_restricted": ("#8e24aa", "#f3e5f5"),
    "no_fly": ("#616161", "#e0e0e0"),
    "people": ("#1565c0", "#bbdefb"),
    "road": ("#1565c0", "#e3f2fd"),
    "boundary": ("#000000", "none"),
}
_SORTIE_COLOURS = (
    "#1f77b4",
    "#2ca02c",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#ff7f0e",
)


def _route_svg(folder: _PlanFolder) -> Markup:
    """The site (zones, facility footprints) and the route per sortie as inline SVG, north up."""
    from plantwatch.drone.site import facility_footprint

    site = folder.site
    sorties = _route_by_sortie(folder)
    shapes: list[tuple[str, list[tuple[float, float]]]] = []
    if site is not None:
        order = [
            "boundary",
            "no_fly",
            "road",
            "people",
            "fire_restricted",
            "zone2",
            "zone1",
            "zone0",
        ]
        for zone in sorted(site.zones, key=lambda z: order.index(z.kind) if z.kind in order else 0):
            shapes.append((zone.kind, list(zone.polygon_m)))
    footprints = []
    if site is not None:
        for facility in site.facilities:
            poly = facility_footprint(facility)
            footprints.append((facility.id, list(poly.exterior.coords), poly.centroid))
    xs = [p[0] for _, pts in shapes for p in pts] + [p[0] for pts in sorties.values() for p in pts]
    ys = [p[1] for _, pts in shapes for p in pts] + [p[1] for pts in sorties.values() for p in pts]
    if not xs:
        return Markup("")
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    pad, top, bottom = 10.0, 26.0, 22.0  # room for the north arrow above, scale bar below
    scale = min((_SVG_W - 2 * pad) / max(x1 - x0, 1.0), (_SVG_H - top - bottom) / max(y1 - y0, 1.0))
    height = (y1 - y0) * scale + top + bottom

    def xy(x: float, y: float) -> str:
        return f"{pad + (x - x0) * scale:.1f},{height - bottom - (y - y0) * scale:.1f}"

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="route-map" viewBox="0 0 {_SVG_W:.0f} '
        f'{height:.0f}" width="{_SVG_W:.0f}" height="{height:.0f}">',
        f'<rect x="0" y="0" width="{_SVG_W:.0f}" height="{height:.0f}" fill="#ffffff"/>',
    ]
    for kind, pts in shapes:
        stroke, fill = _ZONE_STYLE.get(kind, ("#999999", "none"))
        width = 1.6 if kind == "boundary" else 0.8
        parts.append(
            f'<polygon points="{" ".join(xy(x, y) for x, y in pts)}" fill="{fill}" '
            f'fill-opacity="0.6" stroke="{stroke}" stroke-width="{width}"/>'
        )
    for _, outline, _ in footprints:
        parts.append(
            f'<polygon points="{" ".join(xy(x, y) for x, y in outline)}" fill="#cfd8dc" '
            f'stroke="#37474f" stroke-width="0.6"/>'
        )
    for index, (_, path) in enumerate(sorted(sorties.items())):
        colour = _SORTIE_COLOURS[index % len(_SORTIE_COLOURS)]
        parts.append(
            f'<polyline points="{" ".join(xy(x, y) for x, y, _ in path)}" fill="none" '
            f'stroke="{colour}" stroke-width="0.7" stroke-opacity="0.85"/>'
        )
    for fid, _, centre in footprints:
        cx, cy = xy(centre.x, centre.y).split(",")
        parts.append(
            f'<text x="{cx}" y="{cy}" font-size="7" text-anchor="middle" fill="#000">'
            f"{escape(fid)}</text>"
        )
    if site is not None:
        for tx, ty in site.takeoff_points_m:
            px, py = (float(v) for v in xy(tx, ty).split(","))
            parts.append(
                f'<polygon points="{px:.1f},{py - 6:.1f} {px - 5:.1f},{py + 4:.1f} '
                f'{px + 5:.1f},{py + 4:.1f}" fill="#000"/>'
            )
    # scale bar: a round length about a fifth of the width, and a north arrow
    bar_m = _round_length((x1 - x0) / 5.0)
    bar_px = bar_m * scale
    parts.append(
        f'<line x1="{pad}" y1="{height - 6}" x2="{pad + bar_px:.1f}" y2="{height - 6}" '
        f'stroke="#000" stroke-width="2"/><text x="{pad + bar_px + 4:.1f}" y="{height - 3}" '
        f'font-size="8">{bar_m:g} m</text>'
    )
    north_x = _SVG_W - 14
    parts.append(
        f'<polygon points="{north_x},3 {north_x - 4},13 {north_x + 4},13" fill="#000"/>'
        f'<text x="{north_x - 8}" y="12" font-size="9" text-anchor="end">N</text>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))


def _round_length(length_m: float) -> float:
    if length_m <= 0:
        return 1.0
    magnitude = 10 ** int(f"{length_m:e}".split("e")[1])
    for step in (5.0, 2.0, 1.0):
        if length_m >= step * magnitude:
            return step * magnitude
    return float(magnitude)


def _targets(folder: _PlanFolder, lang: str) -> dict[str, Any]:
    facilities: dict[str, dict[str, Any]] = {}
    for record in (folder.coverage or {}).get("facilities", []):
        facilities[str(record.get("facility_id"))] = record
    planned = ((folder.plan.get("baseline") or {}).get("planned") or {}).get("facilities") or {}
    flown = {str(wp.get("facility_id")) for wp in folder.waypoints() if wp.get("facility_id")}
    ids = list(dict.fromkeys([*facilities, *planned, *sorted(flown)]))
    skipped: dict[str, dict[str, int]] = {}  # facility -> {reason: parts skipped for it}
    for item in folder.plan.get("skipped") or []:
        if isinstance(item, Mapping):
            reasons = skipped.setdefault(str(item.get("facility_id")), {})
            reason = str(item.get("reason") or item.get("part") or "")
            reasons[reason] = reasons.get(reason, 0) + 1
    site_facilities = {f.id: f for f in folder.site.facilities} if folder.site else {}
    rows = []
    for fid in ids:
        record = facilities.get(fid, {})
        site_facility = site_facilities.get(fid)
        ftype = str(record.get("facility_type") or (site_facility.type if site_facility else ""))
        name = record.get("name") or (site_facility.name if site_facility else "")
        reasons = skipped.get(fid, {})
        rows.append(
            {
                "id": fid,
                "name": str(name),
                "type": FACILITY_TYPE_LABELS.get(ftype, {"ja": ftype, "en": ftype})[lang],
                "photos": str((planned.get(fid) or {}).get("photos", 0)),
                "coverage": (
                    f"{float(record['coverage_pct']):.1f}" if "coverage_pct" in record else "-"
                ),
                "skipped": "; ".join(
                    f"{reason} (×{parts})" if parts > 1 else reason
                    for reason, parts in list(reasons.items())[:3]
                ),
            }
        )
    return {"rows": rows}


def _route_summary(folder: _PlanFolder, lang: str) -> dict[str, Any]:
    plan = folder.plan
    sorties = []
    for sortie in plan.get("sorties") or []:
        sorties.append(
            {
                "index": int(sortie.get("index", 0)) + 1,
                "photos": sortie.get("photos", 0),
                "duration": f"{float(sortie.get('flight_time_s', 0.0)) / 60:.1f} min",
                "distance": f"{float(sortie.get('distance_m', 0.0)):.0f} m",
                "waypoints": sortie.get("waypoints", 0),
            }
        )
    heights = [float(wp["z_m"]) for wp in folder.waypoints() if wp.get("z_m") is not None]
    facts = [
        (LABELS["camera"][lang], str(plan.get("camera", ""))),
        (LABELS["gsd"][lang], f"{float(plan.get('gsd_mm', 0.0)):g} mm/px"),
        (LABELS["photos"][lang], str(plan.get("photos", ""))),
        (LABELS["sorties"][lang], str(len(sorties))),
        (
            LABELS["flight_time_total"][lang],
            f"{float(plan.get('flight_time_s', 0.0)) / 60:.1f} min",
        ),
        (LABELS["standoff"][lang], f"{float(plan.get('standoff_m', 0.0)):.1f} m"),
        (LABELS["max_height"][lang], f"{max(heights):.1f} m" if heights else "-"),
    ]
    return {"sorties": sorties, "facts": facts, "total_time": facts[4][1]}


def _crew(op: Mapping[str, Any], lang: str) -> dict[str, Any]:
    """Crew table: every required role of Table 2.3 (``unassigned`` when nobody is named), plus
    every other role the operation assigns."""
    from plantwatch.drone.regdata import load_roles

    crew = _plain(op.get("crew")) or {}
    rows: list[dict[str, str]] = []
    seen: set[str] = set()
    for role in _plain(load_roles()):
        role_id = str(role.get("id"))
        person = crew.get(role_id) if isinstance(crew, Mapping) else None
        seen.add(role_id)
        if person is None and not role.get("required"):
            continue
        rows.append(
            {
                "role": _t(role.get("name"), lang) or role_id,
                "person": _fmt(person, lang) if person else LABELS["unassigned"][lang],
                "required": LABELS["yes"][lang] if role.get("required") else "",
                "missing": "1" if person is None else "",
            }
        )
    if isinstance(crew, Mapping):
        for role_id, person in crew.items():
            if role_id not in seen:
                rows.append(
                    {
                        "role": role_id.removeprefix("role.").replace("_", " "),
                        "person": _fmt(person, lang),
                        "required": "",
                        "missing": "",
                    }
                )
    return {
        "rows": rows,
        "pilot": _rows(op.get("pilot"), lang),
        "aircraft": _rows(op.get("aircraft"), lang),
    }


def _capture(op: Mapping[str, Any], folder: _PlanFolder, lang: str) -> str:
    capture = _plain(op.get("capture"))
    items = capture if isinstance(capture, list) else [capture] if capture else []
    words = []
    for item in items:
        key = (
            str(item).strip().lower().replace(" ", "_").replace("-", "_")
            if isinstance(item, str)
            else ""
        )
        words.append(CAPTURE_LABELS[key][lang] if key in CAPTURE_LABELS else _fmt(item, lang))
    camera = folder.plan.get("camera")
    text = " / ".join(dict.fromkeys(words)) or LABELS["not_given"][lang]
    if camera:
        text += f"（{camera}）" if lang == "ja" else f" ({camera})"
    return text


def _purpose(op: Mapping[str, Any], lang: str) -> str:
    purpose = _plain(op.get("purpose"))
    if isinstance(purpose, str):
        key = purpose.strip().lower().replace(" ", "_").replace("-", "_")
        if key in PURPOSE_LABELS:
            return PURPOSE_LABELS[key][lang]
    return _fmt(purpose, lang)


def _finding_rows(findings: Sequence[Any], lang: str) -> dict[str, Any]:
    rows = []
    counts = dict.fromkeys(STATUS_ORDER, 0)
    for finding in findings:
        f = _plain(finding)
        status = str(f.get("status", "")).replace(" ", "_")
        counts[status] = counts.get(status, 0) + 1
        permit = f.get("permit") or {}
        permit_text = ""
        if isinstance(permit, Mapping) and permit:
            permit_text = _t(permit.get("name"), lang)
            authority = _t(permit.get("authority"), lang)
            if authority:
                permit_text += f"（{authority}）" if lang == "ja" else f" ({authority})"
        elif permit:
            permit_text = _fmt(permit, lang)
        question = _t(f.get("question"), lang) if status == "confirm" else ""
        rows.append(
            {
                "id": str(f.get("id", "")),
                "status": status,
                "status_label": STATUS_LABELS.get(status, {"ja": status, "en": status})[lang],
                "title": _t(f.get("title"), lang),
                "message": _t(f.get("message"), lang),
                "question": question,
                "citation": str(f.get("citation", "")),
                "permit": permit_text,
                "deadline": str(f.get("deadline") or ""),
            }
        )
    rank = {s: i for i, s in enumerate(STATUS_ORDER)}
    rows.sort(key=lambda r: (rank.get(r["status"], len(rank)), r["id"]))
    all_ok = all(r["status"] == "ok" for r in rows)
    return {
        "rows": rows,
        "counts": [
            (STATUS_LABELS.get(s, {"ja": s, "en": s})[lang], n) for s, n in counts.items() if n
        ],
        "verdict": LABELS["may_proceed" if all_ok else "must_act"][lang],
    }


LEVEL_LABELS: dict[str, Text] = {
    "low": {"ja": "低", "en": "low"},
    "medium": {"ja": "中", "en": "medium"},
    "high": {"ja": "高", "en": "high"},
}
REACH_KIND_LABELS: dict[str, Text] = {
    **ZONE_KIND_LABELS,
    "facility": {"ja": "設備", "en": "Facility"},
    "outside_site": {"ja": "敷地外", "en": "Outside the site"},
}


def _level(value: Any, lang: str) -> str:
    text = _t(value, lang)
    return LEVEL_LABELS[text][lang] if text in LEVEL_LABELS else text


def _risk_rows(risks: Sequence[Any], lang: str) -> list[dict[str, Any]]:
    group_labels = {
        "general": {"ja": "(a) 一般", "en": "(a) general"},
        "near_hazardous_area": {"ja": "(b) 危険区域近傍", "en": "(b) near hazardous areas"},
        "indoor": {"ja": "(c) 屋内", "en": "(c) indoor"},
    }
    rows = []
    for risk in risks:
        r = _plain(risk)
        likelihood = r.get("likelihood")
        severity = r.get("severity")
        residual_l = r.get("residual_likelihood")
        residual_s = r.get("residual_severity") or severity
        mitigations = r.get("mitigations") or []
        group = str(r.get("group", ""))
        rows.append(
            {
                "id": str(r.get("id", "")),
                "group": group_labels.get(group, {"ja": group, "en": group})[lang],
                "hazard": _t(r.get("hazard"), lang),
                "reason": _t(r.get("reason"), lang),
                "mitigations": [_t(m, lang) for m in mitigations],
                "likelihood": "" if likelihood is None else str(likelihood),
                "severity": "" if severity is None else str(severity),
                "score": _product(likelihood, severity),
                "level_before": _level(r.get("level"), lang),
                "residual": _product(residual_l, residual_s),
                "residual_detail": "" if residual_l is None else f"{residual_l} × {residual_s}",
                "level": _level(r.get("residual_level"), lang),
                "citation": str(r.get("citation", "")),
            }
        )
    return rows


def _matrix_bands(lang: str) -> str:
    """The likelihood x severity bands of ``risk.risk_level``, read off the function itself."""
    risk_level = _optional_attr("plantwatch.drone.risk", "risk_level")
    if risk_level is None:
        return ""
    bands: dict[str, list[int]] = {}
    for likelihood in range(1, 6):
        for severity in range(1, 6):
            score = likelihood * severity
            bands.setdefault(str(risk_level(likelihood, severity)), []).append(score)
    parts = [
        f"{_level(name, lang)}: {min(scores)}–{max(scores)}"
        for name, scores in sorted(bands.items(), key=lambda kv: min(kv[1]))
    ]
    return ("リスクの区分（可能性×重大性）: " if lang == "ja" else "Levels (score): ") + ", ".join(
        parts
    )


def _risk_section(risks: Any, lang: str) -> dict[str, Any] | None:
    """Risk items (a sequence of Table 3.2 items, or a register with ``items``, ``notes`` and
    ``fall_range``) as template data."""
    if risks is None:
        return None
    if isinstance(risks, Sequence):
        return {
            "rows": _risk_rows(risks, lang),
            "notes": [],
            "fall": None,
            "bands": _matrix_bands(lang),
        }
    register = _plain(risks)
    fall = register.get("fall_range") or None
    fall_data = None
    if fall:
        fall_data = {
            "facts": [
                (LABELS["wind"][lang], f"{float(fall.get('wind_m_s', 0.0)):g} m/s"),
                (LABELS["max_height"][lang], f"{float(fall.get('max_height_m', 0.0)):.1f} m"),
                (LABELS["max_range"][lang], f"{float(fall.get('max_range_m', 0.0)):.1f} m"),
                (
                    LABELS["method"][lang],
                    f"{fall.get('method', '')} (× {float(fall.get('safety_factor', 1.0)):g})",
                ),
            ],
            "bands": [
                (
                    f"{float(b.get('height_m', 0.0)):g} m",
                    f"{float(b.get('speed_m_s', 0.0)):g} m/s",
                    f"{float(b.get('range_m', 0.0)):.1f} m",
                )
                for b in fall.get("by_height") or []
            ],
            "reaches": [
                {
                    "kind": REACH_KIND_LABELS.get(
                        str(r.get("kind")), {"ja": str(r.get("kind")), "en": str(r.get("kind"))}
                    )[lang],
                    "what": f"{r.get('id', '')} {r.get('name', '')}".strip(),
                    "area": f"{float(r.get('area_m2', 0.0)):.1f} m²",
                    "controlled": LABELS["yes"][lang]
                    if r.get("controlled")
                    else LABELS["no_yesno"][lang],
                }
                for r in fall.get("reaches") or []
            ],
        }
    return {
        "rows": _risk_rows(register.get("items") or [], lang),
        "notes": [_t(note, lang) for note in register.get("notes") or []],
        "fall": fall_data,
        "bands": _matrix_bands(lang),
    }


def _product(a: Any, b: Any) -> str:
    try:
        return str(int(a) * int(b))
    except (TypeError, ValueError):
        return ""


def _coverage(folder: _PlanFolder, lang: str) -> dict[str, Any]:
    cov = folder.coverage or {}
    totals = cov.get("totals") or {}
    facts = []
    if totals:
        facts = [
            (
                LABELS["coverage_seen"][lang],
                f"{float(totals.get('coverage_pct', 0.0)):.1f} % "
                f"({float(totals.get('seen_area_m2', 0.0)):,.0f} / "
                f"{float(totals.get('total_area_m2', 0.0)):,.0f} m²)",
            ),
            (LABELS["photos"][lang], str(totals.get("photo_count", ""))),
            (LABELS["conventional"][lang], str(totals.get("conventional_inspection_count", ""))),
        ]
    spots = []
    for spot in cov.get("conventional_inspection") or []:
        text = spot.get("action_ja") if lang == "ja" else spot.get("action")
        spots.append(
            {
                "id": str(spot.get("facility_id", "")),
                "text": str(text or spot.get("action") or spot.get("reason") or ""),
                "area": f"{float(spot.get('area_m2', 0.0)):.1f} m²",
            }
        )
    png = (
        "data:image/png;base64," + base64.b64encode(folder.coverage_png).decode("ascii")
        if folder.coverage_png
        else ""
    )
    return {"facts": facts, "spots": spots, "png": png}


def _accident(op: Mapping[str, Any], lang: str) -> list[tuple[str, str]]:
    contacts = _plain(op.get("emergency_contacts") or op.get("emergency"))
    if not contacts:
        return []
    if isinstance(contacts, list):
        return [("", _fmt(c, lang)) for c in contacts]
    return _rows(contacts, lang)


def _approval(plan_dir: Path, lang: str) -> dict[str, Any]:
    status = approval_status(plan_dir)
    action_ja = {"submit": "提出", "approve": "承認", "reject": "差戻し", "revise": "改訂"}
    history = [
        {
            "version": str(r.version),
            "action": action_ja.get(r.action, r.action) if lang == "ja" else r.action,
            "when": r.when,
            "by": f"{r.by} ({r.role})",
            "comment": r.comment,
        }
        for r in status.history
    ]
    submitted = status.last("submit")
    approved = status.last("approve") if status.approved else None
    return {
        "summary": status.summary(lang),
        "version": status.version,
        "history": history,
        "planner": submitted.by if submitted else "",
        "planner_when": submitted.when[:10] if submitted else "",
        "approver": approved.by if approved else "",
        "approver_when": approved.when[:10] if approved else "",
        "sha256": status.current_sha256,
    }


def render_flight_plan_html(
    plan_dir: str | Path,
    operation: Any,
    findings: Sequence[Any] | None,
    risks: Sequence[Any] | Any | None,
    lang: str,
    *,
    today: date | None = None,
) -> str:
    """The flight plan (飛行計画書) of MHLW-2022 Table 3.1 as one self-contained HTML page.

    Parameters
    ----------
    plan_dir
        Plan folder written by ``plantwatch drone plan`` (``plan.json`` required; ``site.geojson``,
        ``coverage.json`` and ``coverage.png`` used when present).
    operation
        The operation (``plantwatch.drone.operation.Operation`` or any mapping with its fields:
        ``date``, ``start_time``, ``end_time``, ``purpose``, ``capture``, ``aircraft``,
        ``pilot``, ``crew`` ``{role_id: name}``, optional ``emergency_contacts``; other fields are
        listed as flight conditions).
    findings
        Compliance findings (``compliance.evaluate``); None when compliance was not evaluated
        (the document then says so).
    risks
        Table 3.2 risk items that apply (``risk.select_risks``), or a risk register with
        ``items``, ``notes`` and ``fall_range`` (``risk.risk_register``); None when not assessed
        (the document then says so).
    lang
        ``ja`` or ``en``: every label and every bilingual text in this language.
    today
        Date printed as the preparation date (default: today).

    Returns
    -------
    html
        UTF-8 HTML with the route map as inline SVG and the coverage map as a data URI.

    Raises
    ------
    InputError
        Unknown language, missing plan folder or unreadable plan files.
    """
    lang = check_lang(lang)
    folder = _load_plan_folder(plan_dir)
    op = _plain(operation)
    if not isinstance(op, Mapping):
        raise InputError(
            f"must be an operation or a mapping, got {type(operation).__name__}", field="operation"
        )
    start, end = op.get("start_time"), op.get("end_time")
    conditions = [
        (_key_label(k, lang), _fmt(v, lang))
        for k, v in op.items()
        if k not in _CONSUMED_OP_KEYS and v is not None and v != {} and v != []
    ]
    site_name = str(folder.plan.get("site") or (folder.site.name if folder.site else ""))
    context = {
        "lang": lang,
        "L": {k: v[lang] for k, v in LABELS.items()},
        "H": {k: v[lang] for k, v in TABLE_3_1_HEADINGS.items()},
        "title": LABELS["doc_title"][lang],
        "site_name": site_name,
        "plan_folder": folder.path.name,
        "prepared": (today or date.today()).isoformat(),
        "date": _fmt(op.get("date"), lang),
        "time": f"{_fmt(start, lang)} – {_fmt(end, lang)}"
        if start or end
        else LABELS["not_given"][lang],
        "purpose": _purpose(op, lang),
        "capture": _capture(op, folder, lang),
        "targets": _targets(folder, lang),
        "area": _area_state(folder, lang),
        "conditions": conditions,
        "route": _route_summary(folder, lang),
        "route_svg": _route_svg(folder),
        "crew": _crew(op, lang),
        "compliance": None if findings is None else _finding_rows(findings, lang),
        "risks": _risk_section(risks, lang),
        "accident": _accident(op, lang),
        "coverage": _coverage(folder, lang),
        "approval": _approval(folder.path, lang),
    }
    return _render("flight_plan.html", **context)


def write_flight_plan(
    plan_dir: str | Path,
    operation: Any,
    findings: Sequence[Any] | None,
    risks: Sequence[Any] | Any | None,
    lang: str,
    html_path: str | Path | None = None,
    pdf_path: str | Path | None = None,
    *,
    today: date | None = None,
) -> tuple[Path, ...]:
    """Render the flight plan and write it as HTML and/or PDF (each file atomically).

    Parameters
    ----------
    plan_dir, operation, findings, risks, lang, today
        As :func:`render_flight_plan_html`.
    html_path, pdf_path
        Where to write; at least one. Both are rendered before either is written, so a failure
        leaves nothing behind.

    Returns
    -------
    paths
        The files written.
    """
    if html_path is None and pdf_path is None:
        raise InputError("give an HTML path, a PDF path or both", field="--html/--pdf")
    for path, suffix, name in ((html_path, ".html", "--html"), (pdf_path, ".pdf", "--pdf")):
        if path is not None and Path(path).suffix.lower() not in (
            suffix,
            ".htm" if suffix == ".html" else ".pdf",
        ):
            raise InputError(f"must end in {suffix}, got {Path(path).name!r}", field=name)
    html = render_flight_plan_html(plan_dir, operation, findings, risks, lang, today=today)
    outputs: list[tuple[Path, bytes]] = []
    if html_path is not None:
        outputs.append((Path(html_path), html.encode("utf-8")))
    if pdf_path is not None:
        outputs.append((Path(pdf_path), html_to_pdf(html, base_url=str(Path(plan_dir)))))
    for path, data in outputs:
        _atomic_write_bytes(path, data)
    return tuple(path for path, _ in outputs)


# --------------------------------------------------------------------------- checklists


def available_tables() -> tuple[str, ...]:
    """Checklist tables of the regulatory data (``"3.3"``, ``"4.1"`` … ``"4.9"``)."""
    from plantwatch.drone.regdata import load_checklists

    return tuple(checklist.table for checklist in load_checklists())


def load_checklist_data(table: str | Mapping[str, Any] | Any) -> dict[str, Any]:
    """One checklist as a plain mapping (``table``, ``title``, ``citation``, ``items`` …).

    Parameters
    ----------
    table
        A table number (``"4.1"``), loaded with :func:`plantwatch.drone.regdata.load_checklist`,
        or an already loaded checklist (model or mapping with ``items``).

    Raises
    ------
    InputError
        Unknown table number (the message lists the valid ones).
    """
    if isinstance(table, str):
        from plantwatch.drone.regdata import load_checklist

        if not table.strip():
            raise InputError("must be a table number such as 4.1, got ''", field="TABLE")
        return dict(_plain(load_checklist(table)))
    data = _plain(table)
    if not isinstance(data, Mapping) or "items" not in data:
        raise InputError("must be a table number or a checklist with items", field="table")
    return dict(data)


def _item_number(item_id: str) -> str:
    match = re.fullmatch(r"t(\d+\.\d+)\.(\w+)", item_id)
    return f"{match.group(1)}-{match.group(2)}" if match else item_id


def _checklist_heading(data: Mapping[str, Any], lang: str) -> str:
    prefix = f"表 {data.get('table', '')}" if lang == "ja" else f"Table {data.get('table', '')}"
    return f"{prefix} {_t(data.get('title'), lang)}".strip()


def render_checklist_text(table: str | Mapping[str, Any] | Any, lang: str = "ja") -> str:
    """A checklist as printable text: the title, then one line per item.

    Parameters
    ----------
    table
        Table number or loaded checklist (see :func:`load_checklist_data`).
    lang
        ``ja`` or ``en``.

    Returns
    -------
    text
        ``表 4.1 飛行前の機体点検 (MHLW-2022 §4.1, Table 4.1)`` then lines like
        ``4.1-01 □ 搭載カメラ… [飛行中止]`` (``[stops flight]`` in English; ``[自動確認]`` /
        ``[checked by the system]`` for items the system checks itself), newline-terminated.
    """
    lang = check_lang(lang)
    data = load_checklist_data(table)
    lines = [
        _checklist_heading(data, lang) + (f" ({data['citation']})" if data.get("citation") else "")
    ]
    for item in data.get("items") or []:
        tags = []
        if item.get("stops_flight"):
            tags.append(LABELS["stops_flight"][lang])
        if item.get("check") == "auto":
            tags.append(LABELS["auto"][lang])
        suffix = "".join(f" [{tag}]" for tag in tags)
        lines.append(
            f"{_item_number(str(item.get('id', '')))} □ {_t(item.get('text'), lang)}{suffix}"
        )
    return "\n".join(lines) + "\n"


def render_checklist_html(table: str | Mapping[str, Any] | Any, lang: str = "ja") -> str:
    """A checklist as a printable HTML form: ok / ng / note columns and signature boxes."""
    lang = check_lang(lang)
    data = load_checklist_data(table)
    items = [
        {
            "number": _item_number(str(item.get("id", ""))),
            "text": _t(item.get("text"), lang),
            "stops_flight": bool(item.get("stops_flight")),
            "auto": item.get("check") == "auto",
            "citation": str(item.get("citation", "")),
        }
        for item in data.get("items") or []
    ]
    return _render(
        "checklist.html",
        lang=lang,
        L={k: v[lang] for k, v in LABELS.items()},
        title=_checklist_heading(data, lang),
        citation=str(data.get("citation", "")),
        items=items,
    )


def write_checklist_html(
    table: str | Mapping[str, Any] | Any, lang: str, html_path: str | Path
) -> Path:
    """Write :func:`render_checklist_html` atomically (``.pdf`` paths are rendered to PDF)."""
    html = render_checklist_html(table, lang)
    path = Path(html_path)
    data = html_to_pdf(html) if path.suffix.lower() == ".pdf" else html.encode("utf-8")
    _atomic_write_bytes(path, data)
    return path


ItemStatus = Literal["ok", "ng", "na"]


class ItemResult(BaseModel):
    """The answer to one checklist item."""

    item_id: str = Field(min_length=1)
    status: ItemStatus
    note: str = ""


class ChecklistRun(BaseModel):
    """One completed checklist: who worked through which table when, and each item's answer.

    Attributes
    ----------
    run_id
        Unique within its journal; default ``<table>-<when>-<who>``.
    table
        Table number, e.g. ``"4.1"``.
    who
        The person who did the checks.
    when
        When (timezone-aware).
    results
        One :class:`ItemResult` per answered item; items not answered count as not done.
    plan
        Optional plan folder name / version the run belongs to.
    """

    model_config = {"frozen": True}

    table: str = Field(min_length=1)
    who: str = Field(min_length=1)
    when: datetime
    results: tuple[ItemResult, ...]
    run_id: str = ""
    plan: str = ""

    @field_validator("who")
    @classmethod
    def _strip_who(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must name a person")
        return value.strip()

    @field_validator("when")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("must carry a UTC offset (e.g. 2025-05-01T09:00+09:00)")
        return value

    def key(self) -> str:
        """``run_id`` or the default ``<table>-<when>-<who>``."""
        return self.run_id or f"{self.table}-{self.when.isoformat()}-{self.who}"

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> ChecklistRun:
        """Validate a mapping (e.g. read from JSON); InputError naming the bad field."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(str(p) for p in error["loc"])
            raise InputError(
                f"{error['msg']} (got {error.get('input')!r})", field=f"run.{where}"
            ) from exc


def evaluate_run(
    run: ChecklistRun, checklist: str | Mapping[str, Any] | Any | None = None
) -> tuple[bool, tuple[str, ...]]:
    """Whether the flight may go ahead after this checklist run.

    Parameters
    ----------
    run
        The completed run.
    checklist
        Its checklist (default: loaded from ``run.table``).

    Returns
    -------
    can_fly
        True when every item whose failure stops the flight is answered ``ok`` or ``na``.
    failed_stop_items
        Ids of stop-flight items answered ``ng`` or not answered, in checklist order.

    Raises
    ------
    InputError
        The run answers an item the checklist does not have, or one item twice.
    """
    data = load_checklist_data(checklist if checklist is not None else run.table)
    if str(data.get("table")) != run.table:
        raise InputError(
            f"run is for table {run.table!r}, checklist is {data.get('table')!r}", field="run.table"
        )
    items = [dict(item) for item in data.get("items") or []]
    known = {str(item["id"]) for item in items}
    answers: dict[str, ItemResult] = {}
    for result in run.results:
        if result.item_id not in known:
            raise InputError(
                f"table {run.table} has no item {result.item_id!r}; items: "
                f"{', '.join(sorted(known))}",
                field="run.results.item_id",
            )
        if result.item_id in answers:
            raise InputError(f"item {result.item_id!r} answered twice", field="run.results.item_id")
        answers[result.item_id] = result
    failed = tuple(
        str(item["id"])
        for item in items
        if item.get("stops_flight")
        and (str(item["id"]) not in answers or answers[str(item["id"])].status == "ng")
    )
    return (not failed, failed)


def append_run(
    run: ChecklistRun, path: str | Path, checklist: str | Mapping[str, Any] | Any | None = None
) -> Path:
    """Append a completed run to an append-only, hash-chained JSONL file.

    Parameters
    ----------
    run
        The completed run (validated against its checklist first).
    path
        The journal file, or a plan folder (then ``<folder>/checklist_runs.jsonl``).
    checklist
        Its checklist (default: loaded from ``run.table``).

    Returns
    -------
    path
        The journal written.

    Raises
    ------
    InputError
        A run with the same key is already stored (completed runs cannot be edited; record a new
        run instead), or the run does not fit its checklist.
    """
    can_fly, failed = evaluate_run(run, checklist)
    journal = Path(path)
    if journal.is_dir():
        journal = journal / CHECKLIST_RUNS_FILE
    if not journal.parent.is_dir():
        raise InputError(f"folder {str(journal.parent)!r} does not exist", field="path")
    if any(r.key() == run.key() for r in load_runs(journal)):
        raise InputError(
            f"run {run.key()!r} is already recorded and cannot be edited; record a new run",
            field="run.run_id",
        )
    record = {
        "run": run.model_dump(mode="json") | {"run_id": run.key()},
        "can_fly": can_fly,
        "failed_stop_items": list(failed),
    }
    append_record(journal, record)
    return journal


def load_runs(path: str | Path) -> list[ChecklistRun]:
    """Read every run of a journal (a plan folder means its ``checklist_runs.jsonl``).

    Raises
    ------
    DataError
        The journal was edited by hand (broken hash chain) or holds an invalid run.
    """
    journal = Path(path)
    if journal.is_dir():
        journal = journal / CHECKLIST_RUNS_FILE
    runs = []
    for record in read_records(journal):
        try:
            runs.append(ChecklistRun.model_validate(record["run"]))
        except (KeyError, ValidationError) as exc:
            raise DataError(f"{journal}: invalid checklist run record ({exc})") from exc
    return runs
