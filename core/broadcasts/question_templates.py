"""Questions staff saved to ask again (``QuestionTemplate``): saving, changing and deleting them, audited.
The built-in templates (``questions.BUILTIN_TEMPLATES``) are not stored and cannot be changed."""

from __future__ import annotations

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from core import actors, audit
from core.errors import UserError
from core.i18n import _
from core.models import QuestionTemplate, StaffAccount
from core.questions import Question

NAME_LIMIT = 100


def _name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise UserError(_("Give the template a name."))
    if len(name) > NAME_LIMIT:
        raise UserError(_("A template's name can be at most %(num)d characters long.", num=NAME_LIMIT))
    return name


async def check_new(name: str) -> None:
    """A UserError when ``name`` cannot be a new template's name (before a broadcast is drafted with it)."""
    if await QuestionTemplate.exists(name=_name(name)):
        raise UserError(_("A template named “%(name)s” already exists.", name=_name(name)))


async def save_template(
    name: str, question: Question, *, by: StaffAccount | None, template_id: int | None = None
) -> QuestionTemplate:
    """Save ``question`` as a new template named ``name``, or as template ``template_id`` changed."""
    name = _name(name)
    if question.is_acknowledgement:
        raise UserError(_("A template needs at least two answers."))
    try:
        async with in_transaction():
            if template_id is None:
                saved = await QuestionTemplate.create(name=name, question=question.to_json())
            else:
                saved = await QuestionTemplate.get(id=template_id)
                saved.name, saved.question = name, question.to_json()
                await saved.save(update_fields=["name", "question", "updated_at"])
            await audit.record(
                actors.staff_or_system(by),
                "question_template.save",
                target=f"question_template:{saved.id}",
                details={"choices": len(question.choices)},
            )
    except IntegrityError:
        raise UserError(_("A template named “%(name)s” already exists.", name=name)) from None
    return saved


async def delete_template(template_id: int, *, by: StaffAccount | None) -> None:
    async with in_transaction():
        deleted = await QuestionTemplate.filter(id=template_id).delete()
        if deleted:
            await audit.record(
                actors.staff_or_system(by), "question_template.delete", target=f"question_template:{template_id}"
            )
