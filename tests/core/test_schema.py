"""The schema comes from migrations, from empty, on both databases."""

from core.db import close_database, open_database, pending_migrations, upgrade_schema


async def test_upgrade_from_empty_reaches_the_current_schema(databases, tmp_path) -> None:
    if hasattr(databases, "url_of"):
        name = f"mimamori_empty_{tmp_path.name[-8:].lower()}"
        await databases._admin(f'CREATE DATABASE "{name}"')
        url = databases.url_of(name)
    else:
        url = f"sqlite://{tmp_path / 'empty.db'}"
    try:
        applied = await upgrade_schema(url)
        assert applied[0] == "0001_initial" and len(applied) >= 2
        await open_database(url)
        assert await pending_migrations(url) == []
        await close_database()
        assert await upgrade_schema(url) == []  # a second upgrade does nothing
    finally:
        await close_database()
        await databases.drop(url)


async def test_every_index_the_models_declare_exists_in_the_database(database_url, is_postgres) -> None:
    """Tortoise's SQLite migrator rebuilds a table to alter a column and can drop its indexes."""
    from tortoise import Tortoise

    from core.db import connection

    client = connection()
    if is_postgres:
        rows = await client.execute_query_dict(
            "SELECT t.relname AS tbl, array_agg(a.attname ORDER BY k.ord) AS cols FROM pg_index i "
            "JOIN pg_class t ON t.oid = i.indrelid JOIN pg_class c ON c.oid = i.indexrelid "
            "CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) "
            "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum "
            "WHERE t.relnamespace = 'public'::regnamespace GROUP BY t.relname, c.relname"
        )
        present = {(r["tbl"], tuple(r["cols"])) for r in rows}
    else:
        present = set()
        for index in await client.execute_query_dict("SELECT name, tbl_name FROM sqlite_master WHERE type = 'index'"):
            cols = await client.execute_query_dict(f"PRAGMA index_info(\"{index['name']}\")")
            present.add((index["tbl_name"], tuple(c["name"] for c in sorted(cols, key=lambda c: c["seqno"]))))
    declared = {
        (model._meta.db_table, tuple(model._meta.fields_db_projection.get(f, f) for f in fields))
        for model in Tortoise.apps["core"].values()
        for fields in (getattr(index, "fields", index) for index in model._meta.indexes)
    }
    assert declared and declared <= present, sorted(declared - present)
