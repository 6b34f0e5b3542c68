"""The web push key pair in the keyring: made for a keyring from before web push, and a new one at
each rotation while the old ones stay (their subscriptions are signed with them)."""

from __future__ import annotations

import json
from pathlib import Path

from core import sealing
from core.keyring import Keyring

JAPANESE = {"LANGUAGE": "", "LC_ALL": "", "LC_MESSAGES": "", "LANG": "C.UTF-8"}


async def test_an_older_keyring_gets_its_key_and_each_rotation_adds_one(cli, database_url, tmp_path: Path) -> None:
    older = json.loads(Path(sealing.installed().keyring.path or "").read_text())
    del older["vapid"]  # as written before web push
    ring_file = tmp_path / "keyring.json"
    ring_file.write_text(json.dumps(older))
    env = {"MIMAMORI_KEYRING": str(ring_file)} | JAPANESE

    made = cli("keys", "webpush", env=env)
    assert made.returncode == 0, made.stderr
    assert made.lines == ["Webプッシュの鍵 v1 を追加し、現在の鍵にしました。"]
    first = Keyring.open(str(ring_file)).vapid_public_key("v1")
    assert cli("keys", "webpush", env=env).lines == ["キーリングにはWebプッシュの鍵 v1 があります。"]

    rotated = cli("keys", "rotate", env=env)
    assert rotated.returncode == 0, rotated.stderr
    assert "Webプッシュの鍵 v2 を追加し、現在の鍵にしました。" in rotated.lines
    ring = Keyring.open(str(ring_file))
    assert ring.vapid_current == "v2" and ring.vapid_public_key("v1") == first  # the old one kept as it was
    assert ring.current_id == "k2"
