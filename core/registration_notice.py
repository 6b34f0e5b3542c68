"""The printed registration notice a new guardian receives through the school (A4, in one language:
Japanese unless another is asked for)."""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path

import segno

from core.errors import UserError
from core.i18n import _
from core.identifiers import compact_code
from core.models import Language
from core.roster.apply import NewGuardian
from core.templating import environment

_UNSAFE_IN_FILE_NAMES = re.compile(r"[^\w-]")
_REF_IN_FILE_NAME = 40


def registration_url(portal_url: str, code: str) -> str:
    return f"{portal_url.rstrip('/')}/register/{compact_code(code)}"


def registration_qr(url: str) -> segno.QRCode:
    # A fixed mask: choosing the best of eight costs 4 ms a code (half a minute for a city's
    # roster), and a large black-on-white print scans fine with any of them.
    return segno.make_qr(url, error="m", mask=2)


def render_registration_notices(
    guardians: Sequence[NewGuardian], *, portal_url: str, language: Language = Language.JA
) -> str:
    """One printable document (A4) in ``language``, a page for each guardian."""
    notices = []
    for guardian in guardians:
        url = registration_url(portal_url, guardian.registration_code)
        notices.append(
            {
                "guardian": guardian,
                "registration_url": url,
                "qr_data_uri": registration_qr(url).svg_data_uri(scale=5, border=4),
            }
        )
    return (
        environment()
        .get_template("print/registration_notice.html")
        .render(notices=notices, portal_url=portal_url, language=language)
    )


def render_registration_notice(guardian: NewGuardian, *, portal_url: str, language: Language = Language.JA) -> str:
    return render_registration_notices([guardian], portal_url=portal_url, language=language)


def write_registration_notices(guardians: list[NewGuardian], directory: Path, *, portal_url: str) -> list[Path]:
    """One HTML file per guardian (see ``notice_file_name``), readable by its owner only.

    An existing file is never overwritten: it may be another family's letter.
    """
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for number, guardian in enumerate(guardians, 1):
        path = directory / notice_file_name(number, guardian)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise UserError(_("%(file)s already exists: it was not overwritten.", file=str(path))) from None
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(render_registration_notice(guardian, portal_url=portal_url))
        written.append(path)
    return written


def notice_file_name(number: int, guardian: NewGuardian) -> str:
    """``0001-G001-K7M2QX9P.html``: the roster's order, the ref to find the family by, the login ID.

    The ref is cut to what any file system takes, so two refs can end up alike (``a/b`` and
    ``a?b`` both read ``a_b``); the login ID, unique, keeps their letters apart.
    """
    ref = _UNSAFE_IN_FILE_NAMES.sub("_", unicodedata.normalize("NFC", guardian.guardian_ref))
    return f"{number:04d}-{ref[:_REF_IN_FILE_NAME] or 'guardian'}-{guardian.login_id}.html"
