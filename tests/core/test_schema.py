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
