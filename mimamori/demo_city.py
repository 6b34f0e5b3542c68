"""A made-up city's roster, for the demo and the benchmarks (deterministic for a given seed), and\nthe demo's walks: who passes which gate, when."""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass, field

from core.i18n import Message
from core.spreadsheet import SpreadsheetWriter

FAMILY_NAMES = (
    "佐藤 鈴木 高橋 田中 伊藤 渡辺 山本 中村 小林 加藤 吉田 山田 佐々木 山口 松本 井上 木村 林 "
    "斎藤 清水 山崎 森 池田 橋本 阿部 石川 山下 中島 石井 小川 前田 岡田 長谷川 藤田 後藤 近藤"
).split()
GIVEN_NAMES = (
    "陽翔 蓮 湊 蒼 樹 大和 悠真 朝陽 律 結翔 陽葵 凛 詩 結菜 芽依 紬 結愛 杏 莉子 葵 さくら "
    "ひなた はると ゆい みお そら あおい こはる いつき かいと"
).split()
PARENT_NAMES = "恵子 裕子 直樹 健太 真由美 美穂 大輔 拓也 由美 智子 和也 亜希子 誠 聡 香織 綾".split()
COLUMNS = (
    "school",
    "grade",
    "class",
    "pupil_name",
    "tag_id",
    "guardian_name",
    "guardian_ref",
    "services",
    "email1",
    "email2",
    "pupil_ref",
)


def demo_roster(schools: list[str], pupils: int, *, seed: int = 7, mail_domain: str = "example.jp") -> bytes:
    """A UTF-8 roster: about a third of the families have two children at the same school."""
    rng = random.Random(seed)
    out = io.StringIO()
    writer = SpreadsheetWriter(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    made = family = 0
    while made < pupils:
        family += 1
        surname = rng.choice(FAMILY_NAMES)
        school = schools[family % len(schools)]
        ref = f"G{family:06d}"
        guardian = f"{surname} {rng.choice(PARENT_NAMES)}"
        emails = [f"family{family}@{mail_domain}"]
        if rng.random() < 0.25:
            emails.append(f"family{family}.mobile@{mail_domain}")
        children = min(pupils - made, 2 if rng.random() < 0.33 else 1)
        for given in rng.sample(GIVEN_NAMES, children):
            made += 1
            has_tag = rng.random() < 0.9
            writer.writerow(
                (
                    school,
                    rng.randint(1, 6),
                    rng.randint(1, 3),
                    f"{surname} {given}",
                    f"{0x1A00000000 + made:010X}" if has_tag else "",
                    guardian,
                    ref,
                    "ictag+broadcast" if has_tag else "broadcast",
                    emails[0],
                    emails[1] if len(emails) > 1 else "",
                    f"P{made:06d}",
                )
            )
    return out.getvalue().encode("utf-8")


@dataclass(frozen=True)
class DemoGate:
    site: str
    name: str
    key: str
    camera: bool
    tags: tuple[str, ...]  # in the order they pass
    every: float  # seconds between them
    start_after: float = 0.0  # seconds after the demo is up

    @property
    def seconds(self) -> float:
        return self.start_after + len(self.tags) * self.every


@dataclass
class DemoCity:
    guardian_ref: str  # the guardian whose login the demo prints
    guardian_email: str
    gates: list[DemoGate]
    pupils: dict[str, str]  # tag -> the pupil's name
    logins: list[tuple[Message, str, str]] = field(default_factory=list)  # (who, login, password)
    second_factors: dict[str, str] = field(default_factory=dict)  # login -> TOTP secret

    @property
    def walk_seconds(self) -> float:
        return max(gate.seconds for gate in self.gates)


def plan_walks(roster: bytes, schools: list[str], hall: str, gate_keys: dict[str, str], *, every: float) -> DemoCity:
    """Every pupil with a tag arrives at school, one every ``every`` seconds, the first being the
    printed guardian's child; then the first third of them leave, and pass the children's hall."""
    rows = [row for row in csv.DictReader(io.StringIO(roster.decode("utf-8"))) if row["tag_id"]]
    shown = next(row for row in rows if row["school"] == schools[0])
    gates: list[DemoGate] = []
    leavers: list[list[str]] = []
    for school in schools:
        arrivals = [row["tag_id"] for row in rows if row["school"] == school]
        arrivals.sort(key=lambda tag: tag != shown["tag_id"])  # the shown guardian's child first
        leaving = arrivals[: len(arrivals) // 3]
        leavers.append(leaving)
        gates.append(DemoGate(school, "正門", gate_keys[school], True, (*arrivals, *leaving), every))
    arrived = max(len(gate.tags) - len(left) for gate, left in zip(gates, leavers, strict=True)) * every
    at_hall = tuple(tag for pair in zip(*leavers, strict=False) for tag in pair)
    gates.append(DemoGate(hall, "入口", gate_keys[hall], False, at_hall, every * 2, start_after=arrived + every))
    pupils = {row["tag_id"]: row["pupil_name"] for row in rows}
    return DemoCity(shown["guardian_ref"], shown["email1"], gates, pupils)
