"""Errors a user can cause: each carries a message fit to show them as it is."""


class UserError(Exception):
    """Bad input or a refused request; ``str(error)`` is the message for the person."""


class NotFound(UserError):
    pass
