"""Opening the database and bringing its schema up to date."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar, cast

from tortoise import Tortoise, connections
from tortoise.backends.base.client import TransactionContextPooled
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.connection import get_connections
from tortoise.fields.base import Field
from tortoise.fields.relational import ForeignKeyFieldInstance, ManyToManyFieldInstance
from tortoise.migrations.api import migrate
from tortoise.migrations.executor import MigrationExecutor
from tortoise.models import Model

APP = "core"
MODELS_MODULE = "core.models"
MIGRATIONS_MODULE = "core.migrations"

_M = TypeVar("_M", bound=Model)


async def _enter_releasing_on_failure(self: TransactionContextPooled) -> Any:
    """Tortoise's pooled transaction, but a connection whose BEGIN fails (the server restarting
    under it) goes back to the pool. Tortoise (1.1) raises out of ``__aenter__`` holding it, so
    ``__aexit__`` never releases it: a few restarts drained the pool and every later transaction
    waited for a connection for ever (delivery stopped after PostgreSQL came back)."""
    await self.ensure_connection()
    pool = self.client._parent._pool
    self.client._connection = await pool.acquire()
    self.token = get_connections().set(self.connection_name, self.client)
    try:
        await self.client.begin()
    except BaseException:
        get_connections().reset(self.token)
        await pool.release(self.client._connection)
        raise
    return self.client


TransactionContextPooled.__aenter__ = _enter_releasing_on_failure  # type: ignore[method-assign]  # the patch above


def tortoise_config(database_url: str) -> dict[str, Any]:
    connection = expand_db_url(database_url)
    if connection["engine"] == "tortoise.backends.sqlite":
        connection["engine"] = "core.sqlite_engine"
        path = connection["credentials"]["file_path"]
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    return {
        "connections": {"default": connection},
        "apps": {
            APP: {
                "models": [MODELS_MODULE],
                "migrations": MIGRATIONS_MODULE,
                "default_connection": "default",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def is_postgres(database_url: str) -> bool:
    return not database_url.startswith("sqlite")


async def open_database(database_url: str) -> None:
    """Initialise Tortoise for this process (all tasks share the one context) and connect now,
    so a wrong or unreachable database fails at start-up rather than at the first request."""
    await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=True)
    try:
        await connections.get("default").execute_query("SELECT 1")
    except BaseException:
        await Tortoise.close_connections()
        raise


async def close_database() -> None:
    await Tortoise.close_connections()


async def upgrade_schema(database_url: str, progress: Callable[[str], object] | None = None) -> list[str]:
    """Apply every pending migration; returns the names applied."""
    applied: list[str] = []

    def _progress(event: str, app_label: str, name: str) -> None:
        if event == "apply_done":
            applied.append(name)
            if progress:
                progress(name)

    try:
        await migrate(config=tortoise_config(database_url), progress=_progress)
    finally:
        await Tortoise.close_connections()
    return applied


async def pending_migrations(database_url: str) -> list[str]:
    """Names of the migrations the open database still lacks."""
    app_config = tortoise_config(database_url)["apps"]
    executor = MigrationExecutor(connections.get("default"), app_config)
    return [step.migration.name for step in await executor.plan(None) if not step.backward]


# For ``mimamori db makemigrations`` (developers): the autodetector compares the models with
# the migration files, so an in-memory database is enough.
AUTHORING_CONFIG = tortoise_config("sqlite://:memory:")


def connection() -> Any:
    return connections.get("default")


def as_datetime(value: Any) -> datetime:
    """A timestamp read by raw SQL: PostgreSQL returns a datetime, SQLite the text Tortoise stored."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def placeholder(dialect: str, position: int) -> str:
    """The bind parameter marker for raw SQL: ``?`` on SQLite, ``$n`` on PostgreSQL."""
    return "?" if dialect == "sqlite" else f"${position}"


async def insert_rows(model: type[Model], rows: Sequence[Mapping[str, Any]], *, ignore_conflicts: bool = False) -> None:
    """Insert plain rows without building model objects, in the current transaction.

    For fan-outs of 100,000 rows, where ``Model.__init__`` costs more than the database does.
    Python-side defaults (``default=``, ``auto_now_add``) are applied here as Tortoise would; a
    column no row supplies whose default is None is left out of the statement (NULL all the same).
    """
    if not rows:
        return
    meta = model._meta
    supplied = set().union(*rows)
    now = datetime.now(UTC)
    given: list[tuple[str, Field[Any], Any]] = []  # (name, field, default if a row lacks it)
    constant: list[tuple[str, Any]] = []  # (name, database value): the same in every row
    made: list[tuple[str, Field[Any], Callable[[], Any]]] = []  # (name, field, default factory)
    for name in meta.fields_db_projection:
        if name in meta.generated_db_fields:
            continue
        field = meta.fields_map[name]
        auto_now = getattr(field, "auto_now_add", False) or getattr(field, "auto_now", False)
        default = now if auto_now else field.default
        if name in supplied:
            given.append((name, field, default))
        elif callable(default):
            made.append((name, field, default))
        elif default is not None:  # a column left out is NULL, as a None default would make it
            constant.append((name, field.to_db_value(default, model)))
    names = [n for n, _, _ in given] + [n for n, _ in constant] + [n for n, _, _ in made]
    client = meta.db
    dialect = client.capabilities.dialect
    marks = ", ".join(placeholder(dialect, i) for i in range(1, len(names) + 1))
    columns = ", ".join(f'"{meta.fields_db_projection[n]}"' for n in names)
    sql = f'INSERT INTO "{meta.db_table}" ({columns}) VALUES ({marks})'
    if ignore_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    constants = [value for _, value in constant]
    values = [
        [
            field.to_db_value(row[name] if name in row else (default() if callable(default) else default), model)
            for name, field, default in given
        ]
        + constants
        + [field.to_db_value(factory(), model) for _, field, factory in made]
        for row in rows
    ]
    await client.execute_many(sql, values)


async def refresh_statistics(*models: type[Model]) -> None:
    """After a bulk write on PostgreSQL: until autovacuum's next round (a minute or more) the
    planner would plan for the tables as they were, and for a table never analysed it guesses
    (a fresh roster's addresses were read whole for every thousand recipients of a broadcast).
    SQLite plans these queries by rules that need no statistics."""
    client = connection()
    if client.capabilities.dialect == "sqlite":
        return
    tables = {model._meta.db_table for model in models} | {
        field.through
        for model in models
        for field in model._meta.fields_map.values()
        if isinstance(field, ManyToManyFieldInstance)
    }
    await client.execute_script("ANALYZE " + ", ".join(f'"{table}"' for table in sorted(tables)))


async def update_rows(model: type[Model], rows: Sequence[Model], fields: Sequence[str]) -> None:
    """Write ``fields`` of each row back by primary key with one prepared statement.

    Tortoise's ``bulk_update`` builds a CASE expression per field whose cost grows with the batch;
    an executemany of one small UPDATE does not.
    """
    if not rows:
        return
    meta = model._meta
    client = meta.db
    dialect = client.capabilities.dialect
    assignments = ", ".join(
        f'"{meta.fields_db_projection[name]}" = {placeholder(dialect, n)}' for n, name in enumerate(fields, 1)
    )
    sql = (
        f'UPDATE "{meta.db_table}" SET {assignments} '
        f'WHERE "{meta.db_pk_column}" = {placeholder(dialect, len(fields) + 1)}'
    )
    converters = [meta.fields_map[name] for name in fields]
    pk = meta.fields_map[meta.pk_attr]
    values = [
        [field.to_db_value(getattr(row, name), row) for name, field in zip(fields, converters, strict=True)]
        + [pk.to_db_value(row.pk, row)]
        for row in rows
    ]
    await client.execute_many(sql, values)


async def first_with_related(model: type[_M], related: str, where: str, params: Sequence[Any]) -> _M | None:
    """The first ``model`` row matching ``where`` with its ``related`` foreign row attached, as
    ``.filter(...).select_related(related).first()`` gives it, without building the query each
    time: for hot paths. ``where`` names the model's table ``m`` and the related one ``r``, and
    marks parameters ``{0}``, ``{1}``, ...
    """
    meta = model._meta
    field = cast("ForeignKeyFieldInstance[Model]", meta.fields_map[related])
    other = field.related_model._meta
    backing = cast(str, field.source_field)  # Tortoise names the "<related>_id" field here for every foreign key
    client = meta.db
    dialect = client.capabilities.dialect
    own = list(meta.fields_db_projection.values())
    theirs = list(other.fields_db_projection.values())
    columns = [f'm."{c}" AS "m.{c}"' for c in own] + [f'r."{c}" AS "r.{c}"' for c in theirs]
    condition = where.format(*(placeholder(dialect, n) for n in range(1, len(params) + 1)))
    sql = (
        f'SELECT {", ".join(columns)} FROM "{meta.db_table}" m JOIN "{other.db_table}" r '
        f'ON r."{other.db_pk_column}" = m."{meta.fields_db_projection[backing]}" '
        f"WHERE {condition} LIMIT 1"
    )
    rows = await client.execute_query_dict(sql, list(params))
    if not rows:
        return None
    row = rows[0]
    instance = model._init_from_db(**{c: row[f"m.{c}"] for c in own})
    object.__setattr__(instance, f"_{related}", other._model._init_from_db(**{c: row[f"r.{c}"] for c in theirs}))
    return instance
