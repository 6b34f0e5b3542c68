"""Where the portal may listen: never on the network in clear text."""

from __future__ import annotations

import ipaddress

from core.config import PortalSettings
from core.errors import UserError
from core.i18n import _


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_listening(portal: PortalSettings) -> None:
    """Refuse to show passwords and photos to the network in clear text."""
    if (portal.tls_cert is None) != (portal.tls_key is None):
        raise UserError(
            _("%(cert)s and %(key)s go together: set both or neither.", cert="portal.tls_cert", key="portal.tls_key")
        )
    for path in (portal.tls_cert, portal.tls_key):
        if path is not None and not path.is_file():
            raise UserError(_("The TLS file %(file)s does not exist.", file=str(path)))
    if portal.tls_cert is None and not portal.behind_proxy and not is_loopback(portal.host):
        raise UserError(
            _(
                "The portal does not listen on %(host)s without TLS: set %(cert)s and %(key)s,"
                " or give %(option)s when a TLS proxy is in front.",
                host=portal.host,
                cert="portal.tls_cert",
                key="portal.tls_key",
                option="--behind-proxy",
            )
        )
