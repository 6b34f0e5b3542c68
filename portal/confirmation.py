"""A destructive action's question on a page of its own (no script): what it does, a button, a way back."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from core.i18n import Message
from portal.templating import page


def confirmation(
    request: Request,
    *,
    question: Message,
    consequence: Message,
    action: str,
    button: Message,
    back: str,
    fields: dict[str, str] | None = None,
    reason_asked: bool = False,
    notice: Message | str | None = None,
) -> Response:
    return page(
        request,
        "admin/confirm.html",
        question=question,
        consequence=consequence,
        action=action,
        button=button,
        back=back,
        fields=fields,
        reason_asked=reason_asked,
        notice=notice,
    )
