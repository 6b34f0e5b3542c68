"""Where the portal may listen: never on the network in clear text."""

from __future__ import annotations

import ipaddress

from core.config import PortalSettings
from core.errors import UserError


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
        raise UserError("portal.tls_cert and portal.tls_key go together: set both or neither")
    for path in (portal.tls_cert, portal.tls_key):
        if path is not None and not path.is_file():
            raise UserError(f"TLS file {path} does not exist")
    if portal.tls_cert is None and not portal.behind_proxy and not is_loopback(portal.host):
        raise UserError(
            f"refusing to listen on {portal.host} without TLS: set portal.tls_cert and portal.tls_key,"
            " or pass --behind-proxy when a TLS proxy is in front"
        )
