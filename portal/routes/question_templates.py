"""Staff's saved questions (templates for the answers of a broadcast): list, change, delete, add."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from core.broadcasts import question_templates
from core.errors import UserError
from core.i18n import Message
from core.models import QuestionTemplate, StaffAccount
from core.questions import Question
from portal.deps import Broadcaster
from portal.params import FreeText, QuestionTemplateId, Word
from portal.question_form import Asks, QuestionForm
from portal.security import csrf_protect
from portal.templating import page

router = APIRouter(prefix="/staff/question-templates", dependencies=[Depends(csrf_protect)])


def _form_of(template: QuestionTemplate) -> QuestionForm:
    question = Question.from_json(template.question)
    form = QuestionForm(Asks.CHOICES, template_name=template.name)
    for i, choice in enumerate(question.choices):
        form.labels[i], form.helps[i] = choice.label, choice.needs_help
    form.allows_note = question.allows_note
    return form


async def _list_page(
    request: Request,
    *,
    typed: tuple[int | None, QuestionForm] | None = None,
    error: Message | str | None = None,
    saved: bool = False,
) -> Response:
    rows = await QuestionTemplate.all().order_by("name")
    forms = [(t.id, _form_of(t)) for t in rows]
    new = QuestionForm(Asks.CHOICES)
    if typed is not None:  # what was typed, with the error, in place of the stored one
        forms = [(i, typed[1] if i == typed[0] else f) for i, f in forms]
        new = typed[1] if typed[0] is None else new
    return page(
        request,
        "staff/question_templates.html",
        status_code=400 if error else 200,
        forms=forms,
        new=new,
        error=error,
        notice=None,
        saved=saved,
    )


@router.get("")
async def templates(request: Request, staff: Broadcaster, saved: Word = "") -> Response:
    return await _list_page(request, saved=bool(saved))


async def _typed(
    template_name: Annotated[FreeText, Form()] = "",
    choice_label: Annotated[list[FreeText] | None, Form()] = None,
    choice_help: Annotated[list[Word] | None, Form()] = None,
    allow_note: Annotated[Word, Form()] = "",
) -> QuestionForm:
    return QuestionForm.typed(
        Asks.CHOICES,
        choice_label or [],
        choice_help or [],
        allows_note=bool(allow_note),
        drill=False,
        drill_escalates=False,
        template_name=template_name,
    )


Typed = Annotated[QuestionForm, Depends(_typed)]


async def _save(request: Request, staff: StaffAccount, template_id: int | None, typed: QuestionForm) -> Response:
    try:
        question = typed.question()
        assert question is not None  # Asks.CHOICES
        await question_templates.save_template(typed.template_name, question, by=staff, template_id=template_id)
    except UserError as error:
        return await _list_page(request, typed=(template_id, typed), error=error.message)
    return RedirectResponse("/staff/question-templates?saved=1", status_code=303)


@router.post("")
async def add(request: Request, staff: Broadcaster, typed: Typed) -> Response:
    return await _save(request, staff, None, typed)


@router.post("/{template_id}")
async def change(request: Request, template_id: QuestionTemplateId, staff: Broadcaster, typed: Typed) -> Response:
    if not await QuestionTemplate.exists(id=template_id):
        raise HTTPException(404)
    return await _save(request, staff, template_id, typed)


@router.post("/{template_id}/delete")
async def delete(request: Request, template_id: QuestionTemplateId, staff: Broadcaster) -> Response:
    await question_templates.delete_template(template_id, by=staff)
    return RedirectResponse("/staff/question-templates", status_code=303)
