"""Passage fixtures: the delivery fixtures (settings pointing at the test SMTP server, a worker)."""

from tests.delivery.conftest import deliver, mail_settings  # noqa: F401
