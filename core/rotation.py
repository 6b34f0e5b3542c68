"""Re-sealing every sealed column with the current key, while the service keeps running.

Rows are read in short batches by primary key and each is written back only if it still holds
the value read (compare and swap), so a concurrent change by the service is never overwritten:
that row was sealed afresh anyway.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from tortoise import Tortoise
from tortoise.transactions import in_transaction

from core.db import APP, connection, placeholder
from core.fields import SealedField
from core.sealing import Sealer, key_id_of

BATCH = 200


@dataclass(frozen=True)
class SealedColumn:
    table: str
    column: str
    primary_key: str
    context: str


def sealed_columns() -> list[SealedColumn]:
    columns = []
    for model in Tortoise.apps[APP].values():
        for field in model._meta.fields_map.values():
            if isinstance(field, SealedField):
                columns.append(
                    SealedColumn(
                        table=model._meta.db_table,
                        column=field.source_field or field.model_field_name,
                        primary_key=model._meta.db_pk_column,
                        context=field.context(),
                    )
                )
    return columns


async def count_sealed() -> int:
    total = 0
    for col in sealed_columns():
        rows = await connection().execute_query_dict(
            f'SELECT COUNT(*) AS n FROM "{col.table}" WHERE "{col.column}" IS NOT NULL'
        )
        total += rows[0]["n"]
    return total


async def reseal_all(sealer: Sealer, progress: Callable[[int], object] | None = None) -> Counter[str]:
    """Re-seal every value not sealed with the current key; returns counts per key id found."""
    found: Counter[str] = Counter()
    current = sealer.current_key_id
    dialect = connection().capabilities.dialect
    for col in sealed_columns():
        update = (
            f'UPDATE "{col.table}" SET "{col.column}" = {placeholder(dialect, 1)} '
            f'WHERE "{col.primary_key}" = {placeholder(dialect, 2)} '
            f'AND "{col.column}" = {placeholder(dialect, 3)}'
        )
        async for batch in _batches(col, dialect):
            async with in_transaction() as conn:
                for pk, sealed in batch:
                    kid = key_id_of(sealed)
                    found[kid] += 1
                    if kid != current:
                        fresh = sealer.seal(sealer.unseal(sealed, col.context), col.context)
                        await conn.execute_query(update, [fresh, pk, sealed])
            if progress:
                progress(len(batch))
    return found


async def count_by_key() -> Counter[str]:
    """How many sealed values each key id holds."""
    found: Counter[str] = Counter()
    for col in sealed_columns():
        async for batch in _batches(col, connection().capabilities.dialect):
            found.update(key_id_of(sealed) for _, sealed in batch)
    return found


async def _batches(col: SealedColumn, dialect: str) -> AsyncIterator[list[tuple[int, bytes]]]:
    select = (
        f'SELECT "{col.primary_key}" AS pk, "{col.column}" AS v FROM "{col.table}" '
        f'WHERE "{col.column}" IS NOT NULL AND "{col.primary_key}" > {placeholder(dialect, 1)} '
        f'ORDER BY "{col.primary_key}" LIMIT {BATCH}'
    )
    last = -1
    while True:
        rows = await connection().execute_query_dict(select, [last])
        if not rows:
            return
        yield [(row["pk"], bytes(row["v"])) for row in rows]
        last = rows[-1]["pk"]
