"""The printed registration notice a new guardian receives through the school (A4, Japanese)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import segno

from core.identifiers import compact_code
from core.roster.apply import NewGuardian
from core.templating import environment


def registration_url(portal_url: str, code: str) -> str:
    return f"{portal_url.rstrip('/')}/register/{compact_code(code)}"


def registration_qr(url: str) -> segno.QRCode:
    # A fixed mask: choosing the best of eight costs 4 ms a code (half a minute for a city's
    # roster), and a large black-on-white print scans fine with any of them.
    return segno.make_qr(url, error="m", mask=2)


def render_registration_notices(guardians: Sequence[NewGuardian], *, portal_url: str) -> str:
    """One printable document (A4), a page for each guardian."""
    notices = []
    for guardian in guardians:
        url = registration_url(portal_url, guardian.registration_code)
        notices.append({
            "guardian": guardian, "registration_url": url,
            "qr_data_uri": registration_qr(url).svg_data_uri(scale=5, border=2),
        })
    return environment().get_template("print/registration_notice.html").render(notices=notices, portal_url=portal_url)


def render_registration_notice(guardian: NewGuardian, *, portal_url: str) -> str:
    return render_registration_notices([guardian], portal_url=portal_url)


def write_registration_notices(
    guardians: list[NewGuardian], directory: Path, *, portal_url: str
) -> list[Path]:
    """One HTML file per guardian, named after the guardian_ref."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for guardian in guardians:
        path = directory / f"{_file_stem(guardian.guardian_ref)}.html"
        path.write_text(render_registration_notice(guardian, portal_url=portal_url), "utf-8")
        path.chmod(0o600)
        written.append(path)
    return written


def _file_stem(ref: str) -> str:
    return re.sub(r"[^\w.-]", "_", ref).lstrip(".") or "guardian"
