"""Click's own texts (the usage line, the headings of ``--help``, its errors), listed so that the
catalogs hold them: click looks them up through gettext, whose domain ``mimamori.cli`` sets to ours.
Nothing imports this module; only the extraction (``scripts/i18n update``) reads it. The msgids are
click's, placeholders (``{name!r}``) and all."""

from core.i18n import _n
from mimamori.cli import N_

CLICK_TEXTS = (
    N_("Usage:"),
    N_("Options"),
    N_("Commands"),
    N_("Show this message and exit."),
    N_("Error: {message}"),
    N_("Try '{command} {option}' for help."),
    N_("Missing argument"),
    N_("Missing option"),
    N_("Missing parameter"),
    N_("Choose from:\n\t{choices}"),
    N_("Missing command."),
    N_("No such command {name!r}."),
    N_("No such option {name!r}."),
    N_("Invalid value for {param_hint}: {message}"),
    N_("Invalid value: {message}"),
    N_("{value!r} is not a valid {number_type}."),
    N_("{name} {filename!r} does not exist."),
    N_("{name} {filename!r} is a directory."),
    N_("{name} {filename!r} is a file."),
    N_("file"),
    N_("directory"),
    N_("path"),
    N_("default: {default}"),
    N_("required"),
    N_("Aborted!"),
)
CLICK_COUNTED_TEXTS = (
    _n("Got unexpected extra argument ({args})", "Got unexpected extra arguments ({args})", 1),
    _n("Option {name!r} requires an argument.", "Option {name!r} requires {nargs} arguments.", 1),
    _n("{value!r} is not {choice}.", "{value!r} is not one of {choices}.", 1),
    _n("Did you mean {possibility}?", "(Did you mean one of: {possibilities}?)", 1),
)
