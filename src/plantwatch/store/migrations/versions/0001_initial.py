"""Initial schema: every table of plantwatch.store.models and the append-only triggers.

Revision ID: 0001_initial
Revises:
Create Date: 2025-01-01

Append-only in the database itself (whatever program writes): UPDATE and DELETE (and TRUNCATE on
PostgreSQL) are refused on flights, maintenance_records, incidents, approvals and audit_log, on
plans whose status is approved or rejected, and on checklist runs once completed. Every trigger
raises a message starting with ``append-only:`` (the store turns it into ImmutableError).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES = ("planner", "approver", "pilot", "inspector", "admin")
PLAN_STATES = ("draft", "submitted", "approved", "rejected")
APPROVAL_ACTIONS = ("submit", "approve", "reject", "revise")
DEFECTS = (
    "corrosion",
    "coating_damage",
    "leak_trace",
    "crack",
    "deformation",
    "insulation_damage",
    "other",
)
ANALYSIS_STATES = ("queued", "running", "done", "failed")

# table -> SQL condition on OLD under which UPDATE/DELETE is refused (None: always)
APPEND_ONLY: dict[str, str | None] = {
    "flights": None,
    "maintenance_records": None,
    "incidents": None,
    "approvals": None,
    "audit_log": None,
    "plans": "OLD.status IN ('approved', 'rejected')",
    "checklist_runs": "OLD.completed_at IS NOT NULL",
}


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _when() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.Integer(), primary_key=True)


def upgrade() -> None:
    auto = {"sqlite_autoincrement": True}
    op.create_table(
        "users",
        _id(),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.CheckConstraint(_in("role", ROLES), name="ck_users_role"),
        **auto,
    )
    op.create_table(
        "sites",
        _id(),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("geojson", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        **auto,
    )
    op.create_table(
        "facilities",
        _id(),
        sa.Column("site_id", sa.Integer(), sa.ForeignKey("sites.id"), nullable=False, index=True),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("data_json", sa.JSON(), nullable=False),
        sa.UniqueConstraint("site_id", "key", name="uq_facilities_key"),
        **auto,
    )
    op.create_table(
        "zones",
        _id(),
        sa.Column("site_id", sa.Integer(), sa.ForeignKey("sites.id"), nullable=False, index=True),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("data_json", sa.JSON(), nullable=False),
        sa.UniqueConstraint("site_id", "key", name="uq_zones_key"),
        **auto,
    )
    op.create_table(
        "plans",
        _id(),
        sa.Column("site_id", sa.Integer(), sa.ForeignKey("sites.id"), nullable=False, index=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("previous_id", sa.Integer(), sa.ForeignKey("plans.id"), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("settings_json", sa.JSON(), nullable=False),
        sa.Column("plan_dir", sa.String(255), nullable=False),
        sa.Column("summary_json", sa.JSON(), nullable=False),
        sa.Column("ops_yaml", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.UniqueConstraint("site_id", "name", "version", name="uq_plans_version"),
        sa.CheckConstraint(_in("status", PLAN_STATES), name="ck_plans_status"),
        **auto,
    )
    op.create_table(
        "approvals",
        _id(),
        sa.Column("plan_id", sa.Integer(), sa.ForeignKey("plans.id"), nullable=False, index=True),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("at", _when(), nullable=False),
        sa.CheckConstraint(_in("action", APPROVAL_ACTIONS), name="ck_approvals_action"),
        **auto,
    )
    op.create_table(
        "checklist_runs",
        _id(),
        sa.Column("plan_id", sa.Integer(), sa.ForeignKey("plans.id"), nullable=True, index=True),
        sa.Column("checklist_table", sa.String(16), nullable=False),
        sa.Column("lang", sa.String(8), nullable=False),
        sa.Column("started_by", sa.String(64), nullable=False),
        sa.Column("started_at", _when(), nullable=False),
        sa.Column("completed_at", _when(), nullable=True),
        sa.Column("completed_by", sa.String(64), nullable=True),
        sa.Column("items_json", sa.JSON(), nullable=False),
        sa.Column("result", sa.String(8), nullable=True),
        sa.CheckConstraint(
            "result IS NULL OR result IN ('go', 'stop')", name="ck_checklist_result"
        ),
        **auto,
    )
    for name in ("pilots", "aircraft"):
        op.create_table(
            name,
            _id(),
            sa.Column("key", sa.String(64), nullable=False, unique=True),
            sa.Column("record_json", sa.JSON(), nullable=False),
            sa.Column("flights_seen", sa.Integer(), nullable=False),
            sa.Column("maintenance_seen", sa.Integer(), nullable=False),
            sa.Column("updated_by", sa.String(64), nullable=False),
            sa.Column("updated_at", _when(), nullable=False),
            **auto,
        )
    op.create_table(
        "maintenance_records",
        _id(),
        sa.Column("key", sa.String(16), nullable=False, unique=True),
        sa.Column("aircraft_key", sa.String(64), nullable=False, index=True),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("record_json", sa.JSON(), nullable=False),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.Column("recorded_at", _when(), nullable=False),
        **auto,
    )
    op.create_table(
        "flights",
        _id(),
        sa.Column("key", sa.String(16), nullable=False, unique=True),
        sa.Column("pilot_key", sa.String(64), nullable=False, index=True),
        sa.Column("aircraft_key", sa.String(64), nullable=False, index=True),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("record_json", sa.JSON(), nullable=False),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.Column("recorded_at", _when(), nullable=False),
        **auto,
    )
    op.create_table(
        "incidents",
        _id(),
        sa.Column("key", sa.String(16), nullable=False, unique=True),
        sa.Column("pilot_key", sa.String(64), nullable=True),
        sa.Column("aircraft_key", sa.String(64), nullable=True),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("record_json", sa.JSON(), nullable=False),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.Column("recorded_at", _when(), nullable=False),
        **auto,
    )
    op.create_table(
        "photos",
        _id(),
        sa.Column("site_id", sa.Integer(), sa.ForeignKey("sites.id"), nullable=True, index=True),
        sa.Column("plan_id", sa.Integer(), sa.ForeignKey("plans.id"), nullable=True, index=True),
        sa.Column("file", sa.String(255), nullable=False),
        sa.Column("original_name", sa.String(255), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False, index=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("media_type", sa.String(32), nullable=False),
        sa.Column("meta_json", sa.JSON(), nullable=False),
        sa.Column("facility_key", sa.String(64), nullable=True),
        sa.Column("taken_at", _when(), nullable=True),
        sa.Column("uploaded_by", sa.String(64), nullable=False),
        sa.Column("uploaded_at", _when(), nullable=False),
        **auto,
    )
    op.create_table(
        "findings",
        _id(),
        sa.Column("photo_id", sa.Integer(), sa.ForeignKey("photos.id"), nullable=False, index=True),
        sa.Column("facility_key", sa.String(64), nullable=True),
        sa.Column("defect", sa.String(32), nullable=False),
        sa.Column("severity", sa.Integer(), nullable=False),
        sa.Column("region_json", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.CheckConstraint(_in("defect", DEFECTS), name="ck_findings_defect"),
        sa.CheckConstraint("severity BETWEEN 1 AND 5", name="ck_findings_severity"),
        **auto,
    )
    op.create_table(
        "gas_videos",
        _id(),
        sa.Column("site_id", sa.Integer(), sa.ForeignKey("sites.id"), nullable=True, index=True),
        sa.Column("facility_key", sa.String(64), nullable=True),
        sa.Column("file", sa.String(255), nullable=False),
        sa.Column("original_name", sa.String(255), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False, index=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("media_type", sa.String(32), nullable=False),
        sa.Column("uploaded_by", sa.String(64), nullable=False),
        sa.Column("uploaded_at", _when(), nullable=False),
        **auto,
    )
    op.create_table(
        "gas_analyses",
        _id(),
        sa.Column(
            "gas_video_id",
            sa.Integer(),
            sa.ForeignKey("gas_videos.id"),
            nullable=False,
            index=True,
        ),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("result_json", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("overlay_file", sa.String(255), nullable=True),
        sa.Column("heatmap_file", sa.String(255), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("started_at", _when(), nullable=True),
        sa.Column("finished_at", _when(), nullable=True),
        sa.CheckConstraint(_in("status", ANALYSIS_STATES), name="ck_gas_analyses_status"),
        **auto,
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("at", _when(), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("entity", sa.String(64), nullable=False, index=True),
        sa.Column("entity_id", sa.String(64), nullable=False),
        sa.Column("payload_json", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False, unique=True),
    )
    _create_triggers()


def _create_triggers() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for table, condition in APPEND_ONLY.items():
            when = f" WHEN {condition}" if condition else ""
            for verb in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_append_only_{verb.lower()} BEFORE {verb} ON {table}"
                    f"{when} BEGIN SELECT RAISE(ABORT, 'append-only: {table} rows cannot be "
                    f"{verb.lower()}d'); END"
                )
    elif dialect == "postgresql":
        op.execute(
            """
            CREATE FUNCTION pw_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'append-only: % rows cannot be changed (%)', TG_TABLE_NAME, TG_OP
                    USING ERRCODE = 'restrict_violation';
            END
            $$
            """
        )
        for table, condition in APPEND_ONLY.items():
            when = f" WHEN ({condition})" if condition else ""
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW{when} EXECUTE FUNCTION pw_append_only()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION pw_append_only()"
            )
    else:  # pragma: no cover - the store only opens these two
        raise NotImplementedError(f"append-only triggers for {dialect}")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in APPEND_ONLY:
        if dialect == "sqlite":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only_update")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only_delete")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS pw_append_only()")
    for table in (
        "audit_log",
        "gas_analyses",
        "gas_videos",
        "findings",
        "photos",
        "incidents",
        "flights",
        "maintenance_records",
        "aircraft",
        "pilots",
        "checklist_runs",
        "approvals",
        "plans",
        "zones",
        "facilities",
        "sites",
        "users",
    ):
        op.drop_table(table)
