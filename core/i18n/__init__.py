"""Mimamori in the languages of the families it serves (gettext catalogs, read with Babel).

``languages`` says which languages there are and who may choose them, ``catalogs`` loads their
translations, ``messages`` is how Python code writes a text for a person (``_``, ``_n``, ``_p``),
``dates`` writes moments as each language does, ``jinja`` installs all of it in a template
environment. README "Languages" says how to add a text or a language.
"""

from core.i18n.messages import Message, _, _n, _p

__all__ = ["Message", "_", "_n", "_p"]
