"""The time zone of every time a person sees (guardians, teachers and clerks are in Japan)."""

from zoneinfo import ZoneInfo

TOKYO = ZoneInfo("Asia/Tokyo")
