"""Every channel describes itself completely in the registry, and its name never breaks a template."""

from __future__ import annotations

import pytest

from core.channels import CHANNELS, Still, label, spec
from core.config import Settings
from core.delivery.render import render
from core.models import Channel, Language, NoticeKind
from core.templating import environment
from mimamori.delivery import transport_factory


@pytest.mark.parametrize("channel", list(Channel))
def test_every_channel_has_a_complete_spec(channel: Channel) -> None:
    facts = spec(channel)
    assert facts.channel is channel
    assert facts.label(Language.JA) and facts.label(Language.EN)
    assert isinstance(facts.still, Still)
    assert facts.multicast_limit is None or facts.multicast_limit > 1
    section = getattr(Settings(), facts.settings_section)
    assert facts.enabled_by is None or facts.enabled_by in type(section).model_fields
    assert transport_factory(facts.transport).channel is channel  # the dotted path names its transport


@pytest.mark.parametrize("channel", list(Channel))
def test_an_address_is_normalised_validated_and_shown_with_its_middle_hidden(channel: Channel) -> None:
    facts = spec(channel)
    assert facts.normalise(f"  {facts.example}\n") == facts.example
    assert facts.valid(facts.example)
    assert not facts.valid("") and not facts.valid("two words")
    shown = facts.mask(facts.example)
    assert facts.example[2:-2] not in shown and len(shown) < len(facts.example)


def test_a_mail_address_shows_its_first_letters_and_its_domain() -> None:
    assert spec(Channel.EMAIL).mask("keiko@example.jp") == "ke***@example.jp"


def test_the_registry_knows_every_channel_and_only_those() -> None:
    assert set(CHANNELS) == set(Channel)


def test_a_channel_the_registry_does_not_know_is_named_by_its_value_in_every_template() -> None:
    """Rows written by a newer version (a channel added since) must not fail a StrictUndefined template."""
    assert label("sms", "en") == "sms" and label(Channel.EMAIL, "fr") == "メール"
    assert environment().from_string('{{ "sms" | channel_label("ja") }}').render() == "sms"
    notice = render(
        NoticeKind.ADDRESS_INACTIVE, Channel.EMAIL, Language.EN, {"inactive_channel": "sms", "portal_url": "https://x"}
    )
    assert "reach you on sms" in notice.subject
