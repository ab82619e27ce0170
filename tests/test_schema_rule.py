"""The schema rule of tenancy (docs: DESIGN.md, "Tenancy"), checked on every table.

Every tenant-owned table has ``tenant_id NOT NULL``, a primary key ``(tenant_id, id)``,
composite foreign keys that carry ``tenant_id`` to any other tenant-owned table (so a row
can never point at another tenant's row), and ``tenant_id`` leading every index and
unique constraint (so every lookup stays inside one tenant, one Citus shard). A table that
is not tenant-owned must be named in GLOBAL_TABLES, on purpose.

The models are only half of it: the database is built by the Alembic migrations, so the
schema they produce is compared with the models on each backend.
"""

from __future__ import annotations

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import (
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
    Uuid,
    func,
)

from twofold.db import Base, db, tenant_models
from twofold.entities.columns import index_name

# Platform-wide tables: one row per company, one row per person (who may belong to
# several companies). Nothing else may be global without being listed here.
GLOBAL_TABLES = frozenset({"tenants", "users"})


def _leading(columns: list[Column]) -> str | None:
    return columns[0].name if columns else None


def schema_violations(
    metadata: MetaData, tenant_tables: set[str], global_tables: frozenset[str]
) -> list[str]:
    """Every breach of the tenancy rule in ``metadata``, one readable line each."""
    problems: list[str] = []
    for table in metadata.sorted_tables:
        name = table.name
        if name in tenant_tables and name in global_tables:
            problems.append(f"{name}: both tenant-owned and listed as global")
        elif name not in tenant_tables and name not in global_tables:
            problems.append(f"{name}: neither tenant-owned nor in GLOBAL_TABLES")
        for fk in table.foreign_key_constraints:
            target = fk.referred_table.name
            pairs = {(element.parent.name, element.column.name) for element in fk.elements}
            if target in tenant_tables and ("tenant_id", "tenant_id") not in pairs:
                problems.append(
                    f"{name}: foreign key {sorted(pairs)} to tenant-owned {target} does not carry tenant_id"
                )
        if name not in tenant_tables:
            continue
        tenant_id = table.c.get("tenant_id")
        if tenant_id is None:
            problems.append(f"{name}: no tenant_id column")
            continue
        if tenant_id.nullable:
            problems.append(f"{name}: tenant_id is nullable")
        if not any(fk.column.table.name == "tenants" for fk in tenant_id.foreign_keys):
            problems.append(f"{name}: tenant_id does not refer to tenants.id")
        pk = [c.name for c in table.primary_key.columns]
        if pk != ["tenant_id", "id"]:
            problems.append(f"{name}: primary key is {pk}, not ['tenant_id', 'id']")
        for index in table.indexes:
            # expressions, not columns: an expression index lists only its plain columns there
            first = index.expressions[0] if index.expressions else None
            if getattr(first, "name", None) != "tenant_id":
                problems.append(f"{name}: index {index.name} {[str(e) for e in index.expressions]} "
                                "does not lead with tenant_id")
        for constraint in table.constraints:
            if isinstance(constraint, UniqueConstraint) and _leading(list(constraint.columns)) != "tenant_id":
                problems.append(f"{name}: unique constraint {[c.name for c in constraint.columns]} "
                                "does not lead with tenant_id")
    return problems


def _tenant_tables() -> set[str]:
    return {model.__table__.name for model in tenant_models()}


# The tests below take ``app`` so that every model is imported (the platform's and the
# plugins'), as in production.


def test_every_table_obeys_the_tenancy_rule(app):
    tenant_tables = _tenant_tables()
    assert {"memberships", "api_tokens", "invitations", "security_events"} <= tenant_tables
    assert schema_violations(Base.metadata, tenant_tables, GLOBAL_TABLES) == []


def test_the_global_tables_exist(app):
    """A stale allowlist entry would hide a renamed table from the rule."""
    assert set(GLOBAL_TABLES) <= set(Base.metadata.tables)


def test_the_checker_reports_every_kind_of_breach():
    """The checker itself must not pass silently: a throwaway schema breaks each rule once."""
    md = MetaData()
    Table("tenants", md, Column("id", Uuid, primary_key=True))
    Table("users", md, Column("id", Uuid, primary_key=True))

    def tenant_cols(nullable: bool = False) -> list[Column]:
        return [Column("tenant_id", Uuid, ForeignKey("tenants.id"), nullable=nullable),
                Column("id", Uuid, default=uuid.uuid4)]

    Table("good", md, *tenant_cols(), Column("user_id", Uuid, ForeignKey("users.id")),
          Column("code", String(10)),
          PrimaryKeyConstraint("tenant_id", "id"), UniqueConstraint("tenant_id", "code"),
          Index("ix_good_tenant_code", "tenant_id", "code"))
    Table("good_child", md, *tenant_cols(), Column("good_id", Uuid),
          PrimaryKeyConstraint("tenant_id", "id"),
          ForeignKeyConstraint(["tenant_id", "good_id"], ["good.tenant_id", "good.id"]))
    Table("nullable_tenant", md, *tenant_cols(nullable=True), PrimaryKeyConstraint("tenant_id", "id"))
    Table("id_only_key", md, Column("tenant_id", Uuid, ForeignKey("tenants.id"), nullable=False),
          Column("id", Uuid, primary_key=True))
    Table("id_first_key", md, *tenant_cols(), PrimaryKeyConstraint("id", "tenant_id"))
    Table("fk_without_tenant", md, *tenant_cols(), Column("good_id", Uuid, ForeignKey("good.id")),
          PrimaryKeyConstraint("tenant_id", "id"))
    Table("index_not_leading", md, *tenant_cols(), Column("code", String(10)),
          PrimaryKeyConstraint("tenant_id", "id"), Index("ix_code_tenant", "code", "tenant_id"))
    expression_first = Table("expression_first", md, *tenant_cols(), Column("code", String(10)),
                             PrimaryKeyConstraint("tenant_id", "id"))
    Index("ix_lower_code_tenant", func.lower(expression_first.c.code), expression_first.c.tenant_id)
    Table("unique_not_leading", md, *tenant_cols(), Column("code", String(10), unique=True),
          PrimaryKeyConstraint("tenant_id", "id"))
    Table("no_tenant_fk", md, Column("tenant_id", Uuid, nullable=False), Column("id", Uuid),
          PrimaryKeyConstraint("tenant_id", "id"))
    Table("no_tenant_column", md, Column("id", Uuid, primary_key=True))
    Table("global_pointing_in", md, Column("id", Uuid, primary_key=True),
          Column("good_id", Uuid, ForeignKey("good.id")))
    Table("forgotten", md, Column("id", Uuid, primary_key=True))

    tenant_tables = {"good", "good_child", "nullable_tenant", "id_only_key", "id_first_key",
                     "fk_without_tenant", "index_not_leading", "expression_first", "unique_not_leading",
                     "no_tenant_fk", "no_tenant_column"}
    problems = schema_violations(md, tenant_tables, frozenset({"tenants", "users", "global_pointing_in"}))
    expected = {
        "nullable_tenant": "tenant_id is nullable",
        "id_only_key": "primary key is ['id']",
        "id_first_key": "primary key is ['id', 'tenant_id']",
        "fk_without_tenant": "does not carry tenant_id",
        "index_not_leading": "index ix_code_tenant",
        "expression_first": "index ix_lower_code_tenant",
        "unique_not_leading": "unique constraint ['code']",
        "no_tenant_fk": "does not refer to tenants.id",
        "no_tenant_column": "no tenant_id column",
        "global_pointing_in": "to tenant-owned good does not carry tenant_id",
        "forgotten": "neither tenant-owned nor in GLOBAL_TABLES",
    }
    for table, message in expected.items():
        assert any(p.startswith(f"{table}:") and message in p for p in problems), (table, problems)
    assert not [p for p in problems if p.split(":")[0] in ("good", "good_child")], problems
    assert len(problems) == len(expected), problems


# Expression indexes the entity engine creates at run time for indexed fields
# (twofold.entities.indexes); they are in no model. The database check below holds them
# to the rule too.
RUNTIME_INDEX_PREFIX = index_name("", "").rstrip("_")


def _not_runtime_index(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    return not (type_ == "index" and reflected and compare_to is None
                and (name or "").startswith(RUNTIME_INDEX_PREFIX))


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_the_migrated_database_matches_the_models(app):
    """``flask db upgrade`` (run by the app fixture) must build exactly what the models
    describe: a model change without its migration fails here, on each backend."""
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": _not_runtime_index}
        )
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_the_database_itself_obeys_the_rule(app):
    """What is really in the database, as reflected: on PostgreSQL that includes the
    expression indexes made at run time (SQLite's reflection skips those)."""
    with app.app_context():
        reflected = MetaData()
        reflected.reflect(bind=db.engine)
    reflected.remove(reflected.tables["alembic_version"])
    assert schema_violations(reflected, _tenant_tables(), GLOBAL_TABLES) == []


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_the_comparison_sees_a_schema_that_differs(app):
    """The comparison above must be able to fail: a copy of the models with one table more
    and one index less is not what the migrations built."""
    changed = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.sorted_tables:
        table.to_metadata(changed)
    events = changed.tables["security_events"]
    events.indexes.discard(next(iter(events.indexes)))
    Table("not_migrated", changed, Column("id", Uuid, primary_key=True))
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        kinds = {diff[0] for diff in compare_metadata(context, changed)}
    assert {"add_table", "remove_index"} <= kinds
