"""Turning a notice into what a person reads, from Jinja2 templates per (kind, channel), in a language.

Templates live in core/templates/notices/<kind>/: ``<channel>.j2`` when present, else ``base.j2``,
written once with ``{{ _("…") }}`` and rendered with the reader's ``language`` (core.i18n). A
template defines the blocks ``subject`` and ``text``; mail templates add ``html``; labels of
buttons are the blocks ``photo_label``, ``link_label`` and ``ack_label``, and a context's ``postbacks``
(``[label block, data]`` pairs) and ``choice_buttons`` (``[label, data]``: a question's choices, as
staff wrote them) are chat buttons. Moments are written with the
``time``, ``date`` and ``datetime`` filters, in the notice's ``zone`` (its site's).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from jinja2 import Environment, Template, select_autoescape

from core.channels import spec
from core.i18n import _
from core.models import Channel, Language, NoticeKind
from core.templating import environment


@dataclass(frozen=True)
class Action:
    """A button under a notice: a link, or (chat apps) a postback."""

    label: str
    url: str | None = None
    postback: str | None = None


@dataclass(frozen=True)
class RenderedNotice:
    subject: str
    text: str
    html: str | None
    actions: tuple[Action, ...] = ()
    sender: str = ""  # who it is from, in the reader's language (a mail's From name)

    def chat_text(self) -> str:
        """The notice as one chat message (Telegram, LINE): the subject as its first line, then the
        text. The transports send this and the staff preview shows it."""
        return f"{self.subject}\n\n{self.text}" if self.subject else self.text


def render(kind: NoticeKind, channel: Channel, language: Language, context: dict[str, Any]) -> RenderedNotice:
    template = _template(kind, channel)
    values = template.new_context({**context, "language": language})
    for _output in template.root_render_func(values):  # runs the top-level {% set %}s into ``values``
        pass

    def block(name: str) -> str:
        # values.blocks resolves inheritance: the most derived template's block comes first.
        found = values.blocks.get(name)
        return "".join(found[0](values)).strip() if found else ""

    actions = []
    if context.get("photo_url"):
        actions.append(Action(block("photo_label"), url=context["photo_url"]))
    if spec(channel).has_buttons:  # postbacks answered in the chat (a "not seen" notice's one-tap answers)
        actions.extend(Action(block(label), postback=data) for label, data in context.get("postbacks", ()))
        actions.extend(Action(label, postback=data) for label, data in context.get("choice_buttons", ()))
    if context.get("link_url"):  # a page to act on the notice (a "not seen" notice's one-tap answers)
        actions.append(Action(block("link_label"), url=context["link_url"]))
    if context.get("ack_url") or context.get("ack_postback"):
        actions.append(Action(block("ack_label"), url=context["ack_url"], postback=context.get("ack_postback")))
    subject, text = " ".join(block("subject").split()), block("text")
    html = block("html") or None
    if html is None and spec(channel).renders_html:
        html = (
            _environment()
            .get_template("notices/email_frame.html.j2")
            .render(subject=subject, text=text, actions=actions, language=language)
        )
    return RenderedNotice(subject=subject, text=text, html=html, actions=tuple(actions), sender=sender_name(language))


def sender_name(language: Language) -> str:
    return _("Mimamori").translate(language)


@cache
def _template(kind: NoticeKind, channel: Channel) -> Template:
    names = [f"{channel.value}.j2", "base.j2"]
    return _environment().select_template([f"notices/{kind.value}/{name}" for name in names])


@cache
def _environment() -> Environment:
    # Notice texts are plain text; the one HTML template (the mail frame) autoescapes by name.
    return environment().overlay(autoescape=select_autoescape(["html.j2"]))
