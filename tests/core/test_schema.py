"""The schema comes from migrations, from empty, on both databases."""

from core.db import close_database, open_database, pending_migrations, upgrade_schema


async def test_upgrade_from_empty_reaches_the_current_schema(databases, tmp_path) -> None:
    url = await _new_empty(databases, tmp_path)
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
            cols = await client.execute_query_dict(f'PRAGMA index_info("{index["name"]}")')
            present.add((index["tbl_name"], tuple(c["name"] for c in sorted(cols, key=lambda c: c["seqno"]))))
    declared = {
        (model._meta.db_table, tuple(model._meta.fields_db_projection.get(f, f) for f in fields))
        for model in Tortoise.apps["core"].values()
        for fields in (getattr(index, "fields", index) for index in model._meta.indexes)
    }
    assert declared and declared <= present, sorted(declared - present)


async def test_an_upgrade_seals_roster_refs_and_drops_what_old_reasons_quoted(
    databases, keyring_path, tmp_path
) -> None:
    """A deployment upgraded from before 0012: the school's family references are sealed, the
    next import still finds each family, and stored reasons keep our words and the codes only."""
    from datetime import UTC, datetime

    from core import sealing
    from core.config import AccountSettings
    from core.db import connection
    from core.keyring import Keyring
    from core.models import ContactAddress, Delivery, Guardian
    from core.passwords import Passwords
    from core.roster import guardian_key, import_roster

    url = await _new_empty(databases, tmp_path)
    sealer = sealing.Sealer(Keyring.open(str(keyring_path)))
    try:
        await _migrated_to(url, "0011_heartbeats", sealer)
        now = datetime.now(UTC)
        guardian = await _guardian(sealer, now, roster_ref="G001")
        address = await _address(
            guardian,
            "email",
            sealer.seal_text("keiko@example.jp", "contact_address.value"),
            now,
            status="failing",
            failure_count=3,
            last_failure="mail server refused: 550 5.1.1 <keiko@example.jp>: 山田 恵子 unknown",
        )
        for n, (channel, error, provider_id) in enumerate(
            [
                ("email", "mail server said 452 4.2.2 <keiko@example.jp>: mailbox full", None),
                ("telegram", "Telegram refused: Bad Request: chat 987654321 not found", None),
                ("telegram", None, "987654321:42"),
            ]
        ):
            await _insert(
                "delivery",
                idempotency_key=f"k{n}",
                kind="passage",
                channel=channel,
                priority=0,
                address_id=address,
                status="failed",
                attempts=1,
                next_attempt_at=now,
                queued_at=now,
                last_error=error,
                provider_message_id=provider_id,
            )
        await close_database()

        assert "0012_sealed_roster_ref" in await upgrade_schema(url)
        await open_database(url)
        raw = await connection().execute_query_dict("SELECT roster_ref, roster_ref_index FROM guardian")
        assert b"G001" not in bytes(raw[0]["roster_ref"]) and raw[0]["roster_ref_index"] == guardian_key("G001")
        assert (await Guardian.get(id=guardian)).roster_ref == "G001"
        assert (await ContactAddress.get(id=address)).last_failure == "mail server refused (550 5.1.1)"
        assert await Delivery.all().order_by("id").values_list("last_error", "provider_message_id") == [
            ("mail server said (452 4.2.2)", None),
            ("Telegram refused", None),
            (None, "42"),
        ]

        roster = (
            "school,grade,class,pupil_name,tag_id,guardian_name,guardian_ref,services,email1\n"
            "みどり小学校,3,2,山田 花子,,山田 恵子,g001,broadcast,\n"
        )  # as another export spells it
        result = await import_roster(
            roster.encode(), passwords=Passwords(AccountSettings(), sealer), max_addresses=2, actor="test"
        )
        assert result.written and result.new_guardians == []  # the same family, found by its index
        assert await Guardian.all().count() == 1
    finally:
        await close_database()
        sealing.install(None)
        await databases.drop(url)


async def _new_empty(databases, tmp_path) -> str:
    if hasattr(databases, "url_of"):
        name = f"mimamori_empty_{tmp_path.name[-8:].lower()}"
        await databases._admin(f'CREATE DATABASE "{name}"')
        return databases.url_of(name)
    return f"sqlite://{tmp_path / 'empty.db'}"


async def _insert(table: str, **values) -> int:
    from core.db import connection, placeholder

    client = connection()
    marks = ", ".join(placeholder(client.capabilities.dialect, n) for n in range(1, len(values) + 1))
    await client.execute_query(f"INSERT INTO {table} ({', '.join(values)}) VALUES ({marks})", list(values.values()))
    [row] = await client.execute_query_dict(f"SELECT max(id) AS id FROM {table}")
    return row["id"]


async def test_an_upgrade_puts_each_address_in_its_mail_group_and_passages_before_alerts(
    databases, keyring_path, tmp_path
) -> None:
    """A deployment upgraded from before 0016, with an alert being sent: each address is in its
    carrier's group (found by unsealing it), the queued notices with it, and a passage notice queued
    after the alert is claimed before it."""
    from datetime import UTC, datetime, timedelta

    from core import sealing
    from core.delivery.claims import claim_batch
    from core.keyring import Keyring
    from core.models import Channel, ContactAddress, Delivery

    url = await _new_empty(databases, tmp_path)
    sealer = sealing.Sealer(Keyring.open(str(keyring_path)))
    try:
        await _migrated_to(url, "0014_mail_answer_kind", sealer)
        now = datetime.now(UTC)
        guardian = await _guardian(sealer, now)
        addresses = {}
        for channel, value in [
            ("email", "keiko@docomo.ne.jp"),
            ("email", "keiko@I.SoftBank.jp"),
            ("email", "keiko@example.jp"),
            ("telegram", "123456789"),
        ]:
            addresses[value] = await _address(guardian, channel, sealer.seal_text(value, "contact_address.value"), now)
        for key, kind, priority, status in [
            ("alert", "broadcast", 0, "queued"),  # an urgent alert, queued first
            ("passage", "passage", 0, "queued"),
            ("staff", "staff", 2, "queued"),
            ("old", "passage", 0, "sent"),
        ]:
            await _insert(
                "delivery",
                idempotency_key=key,
                kind=kind,
                channel="email",
                priority=priority,
                address_id=addresses["keiko@docomo.ne.jp"],
                status=status,
                attempts=0,
                next_attempt_at=now - timedelta(seconds=1),
                queued_at=now,
            )
        await close_database()

        assert "0016_lanes" in await upgrade_schema(url)
        await open_database(url)
        lanes = dict(await ContactAddress.all().values_list("id", "lane"))
        assert [lanes[addresses[v]] for v in addresses] == ["docomo", "softbank", "other", "all"]
        claimed = await claim_batch([Channel.EMAIL], limit=10, lease=timedelta(minutes=1), now=datetime.now(UTC))
        assert [(d.idempotency_key, d.lane) for d in claimed] == [
            ("passage", "docomo"),
            ("alert", "docomo"),
            ("staff", "docomo"),
        ]
        assert (await Delivery.get(idempotency_key="old")).priority == 0  # history is left as it was
    finally:
        await close_database()
        sealing.install(None)
        await databases.drop(url)


async def test_an_upgrade_turns_acknowledgements_into_answers_for_each_child(databases, keyring_path, tmp_path) -> None:
    """A deployment upgraded from before 0020: a broadcast that asked for acknowledgement asks the
    one-answer question, each acknowledgement answers it for each of that guardian's children (the
    first to acknowledge counts for a child two guardians acknowledged), and every one is history."""
    import json
    from datetime import UTC, datetime, timedelta

    from core import sealing
    from core.broadcasts import ACKNOWLEDGEMENT, question_of
    from core.db import connection
    from core.keyring import Keyring
    from core.models import Broadcast, BroadcastAnswer, BroadcastAnswerChange

    url = await _new_empty(databases, tmp_path)
    sealer = sealing.Sealer(Keyring.open(str(keyring_path)))
    try:
        await _migrated_to(url, "0019_attendance", sealer)
        now = datetime.now(UTC)
        site = await _insert(
            "site", name="みどり小学校", kind="school", has_camera=True, timezone="Asia/Tokyo",
            cutoff="12:00", check_time="08:40", created_at=now,
        )  # fmt: skip
        pupils = [
            await _insert(
                "pupil",
                school_id=site,
                grade=3,
                class_name="2",
                name=sealer.seal_text(name, "pupil.name"),
                name_index=f"n{n}",
                roster_key=f"r{n}",
                created_at=now,
                updated_at=now,
            )  # fmt: skip
            for n, name in enumerate(["山田 花子", "山田 一郎"])
        ]
        mother = await _guardian(sealer, now)
        father = await _guardian(sealer, now, login_id="L0002")
        for guardian, children in ((mother, pupils), (father, pupils[:1])):
            for pupil in children:
                await connection().execute_query(
                    f"INSERT INTO guardian_pupil (guardian_id, pupil_id) VALUES ({guardian}, {pupil})"
                )
        scope = json.dumps({"targets": []})
        asked = await _insert(
            "broadcast", scope=scope, category="disaster", title="地震", body="待機", ack_requested=True,
            status="fanned_out", created_at=now, confirmed_at=now, fanout_cursor=0,
        )  # fmt: skip
        plain = await _insert(
            "broadcast", scope=scope, category="general", title="お知らせ", body="本文", ack_requested=False,
            status="fanned_out", created_at=now, confirmed_at=now, fanout_cursor=0,
        )  # fmt: skip
        await _insert("broadcast_ack", broadcast_id=asked, guardian_id=father, acknowledged_at=now, channel="line")
        later = now + timedelta(minutes=3)
        await _insert("broadcast_ack", broadcast_id=asked, guardian_id=mother, acknowledged_at=later, channel="email")
        await close_database()

        assert "0020_questions" in await upgrade_schema(url)
        await open_database(url)
        assert question_of(await Broadcast.get(id=asked)) == ACKNOWLEDGEMENT
        assert question_of(await Broadcast.get(id=plain)) is None
        counted = (
            await BroadcastAnswer.all().order_by("pupil_id").values_list("pupil_id", "guardian_id", "choice", "channel")
        )
        assert counted == [(pupils[0], father, 0, "line"), (pupils[1], mother, 0, "email")]
        assert await BroadcastAnswerChange.filter(broadcast_id=asked).count() == 3
    finally:
        await close_database()
        sealing.install(None)
        await databases.drop(url)


async def test_an_upgrade_that_must_read_addresses_asks_for_the_keyring(databases, tmp_path) -> None:
    from datetime import UTC, datetime

    import pytest

    url = await _new_empty(databases, tmp_path)
    try:
        await _migrated_to(url, "0014_mail_answer_kind", None)
        now = datetime.now(UTC)
        await _address(await _guardian(None, now), "email", b"sealed elsewhere", now)
        await close_database()
        with pytest.raises(RuntimeError, match="needs the keyring: run `mimamori db upgrade`"):
            await upgrade_schema(url)
    finally:
        await close_database()
        await databases.drop(url)


async def _migrated_to(url: str, target: str, sealer) -> None:
    """The empty database at ``url`` migrated up to ``target``, open, with ``sealer`` installed."""
    from tortoise.migrations.api import migrate

    from core import sealing
    from core.db import tortoise_config

    sealing.install(sealer)
    await migrate(config=tortoise_config(url), target=f"core.{target}")
    await close_database()
    await open_database(url)


async def _address(guardian: int, channel: str, sealed: bytes, now, **more) -> int:
    """An address row as the schema before the migration under test has it."""
    given = {"status": "active", "failure_count": 0, **more}
    return await _insert(
        "contact_address",
        guardian_id=guardian,
        channel=channel,
        value=sealed,
        value_index=f"x{guardian}-{len(sealed)}-{hash(sealed)}",
        created_at=now,
        **given,
    )


async def _guardian(sealer, now, **more) -> int:
    """A guardian row as the schema before the migration under test has it."""
    return await _insert(
        "guardian",
        **{"login_id": "L0001", **more},
        password_hash="x",
        name=sealer.seal_text("山田 恵子", "guardian.name") if sealer else b"sealed",
        name_index=sealer.blind_index("name", "山田 恵子") if sealer else "n",
        must_change_password=True,
        failed_logins=0,
        language="ja",
        wants_passages=True,
        wants_broadcasts=True,
        passages_paused=False,
        photos_in_chat=False,
        created_at=now,
        updated_at=now,
    )
