"""LINE's monthly message quota, as the staff preview shows it before a broadcast is confirmed."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LineQuota:
    limit: int | None  # None: no monthly limit
    used: int
