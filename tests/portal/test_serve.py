"""``mimamori serve``: TLS when given a certificate, and no clear text on the network otherwise."""

from __future__ import annotations

import datetime as dt
import socket
import ssl
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from core.config import PortalSettings
from mimamori.listening import check_listening
from tests.cli.test_admin_commands import ENGLISH, JAPANESE


def _self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def test_serve_refuses_a_public_address_without_tls(cli) -> None:
    result = cli("serve", env={**JAPANESE, "MIMAMORI_PORTAL__HOST": "0.0.0.0"})
    assert result.returncode != 0
    assert (
        result.stderr.startswith("mimamori: TLS なしでは 0.0.0.0 で待ち受けません。")
        and "--behind-proxy" in result.stderr
    )
    in_english = cli("serve", env={**ENGLISH, "MIMAMORI_PORTAL__HOST": "0.0.0.0"})
    assert "The portal does not listen on 0.0.0.0 without TLS" in in_english.stderr


def test_a_tls_proxy_in_front_or_a_certificate_allows_a_public_address(tmp_path: Path) -> None:
    check_listening(PortalSettings(host="0.0.0.0", behind_proxy=True))
    cert, key = _self_signed(tmp_path)
    check_listening(PortalSettings(host="0.0.0.0", tls_cert=cert, tls_key=key))
    check_listening(PortalSettings(host="::1"))


async def test_serve_speaks_tls_with_hsts_and_secure_cookies(start_server, empty_database_url, tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    url = start_server(
        scheme="https",
        env={
            "MIMAMORI_PORTAL__TLS_CERT": str(cert),
            "MIMAMORI_PORTAL__TLS_KEY": str(key),
        },
    )
    async with httpx.AsyncClient(verify=False) as client:
        response = await client.get(f"{url}/login")
    assert response.status_code == 200 and "ログイン" in response.text
    assert response.headers["strict-transport-security"].startswith("max-age=")
    assert "Secure" in response.headers["set-cookie"]


def _handshake(url: str, *, version: ssl.TLSVersion, ciphers: str | None = None) -> tuple[str, str]:
    """The protocol and suite a Python client agrees on with the server (raises if none)."""
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client.check_hostname, client.verify_mode = False, ssl.CERT_NONE
    client.minimum_version = client.maximum_version = version
    if ciphers:
        client.set_ciphers(ciphers)
    address = urlsplit(url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as raw:
        with client.wrap_socket(raw) as tls:
            name, protocol, _ = tls.cipher()
            return protocol, name


async def test_serve_offers_tls_1_2_and_1_3_with_aead_suites_only(
    start_server, empty_database_url, tmp_path: Path
) -> None:
    cert, key = _self_signed(tmp_path)
    url = start_server(
        scheme="https",
        env={
            "MIMAMORI_PORTAL__TLS_CERT": str(cert),
            "MIMAMORI_PORTAL__TLS_KEY": str(key),
        },
    )
    assert _handshake(url, version=ssl.TLSVersion.TLSv1_3)[0] == "TLSv1.3"
    protocol, suite = _handshake(url, version=ssl.TLSVersion.TLSv1_2)
    assert protocol == "TLSv1.2" and ("GCM" in suite or "CHACHA20" in suite), suite
    for offered in ("ECDHE+AES+SHA1:ECDHE+AES+SHA256:ECDHE+AES+SHA384", "AES128-GCM-SHA256:AES256-GCM-SHA384"):
        with pytest.raises(ssl.SSLError):  # CBC suites (LUCKY13), or no forward secrecy: refused
            _handshake(url, version=ssl.TLSVersion.TLSv1_2, ciphers=offered)


async def test_behind_a_tls_proxy_the_forwarded_scheme_brings_hsts_and_secure_cookies(start_server) -> None:
    url = start_server("--behind-proxy")
    async with httpx.AsyncClient() as client:
        proxied = await client.get(f"{url}/login", headers={"X-Forwarded-Proto": "https"})
        direct = await client.get(f"{url}/login")
    assert proxied.headers["strict-transport-security"].startswith("max-age=")
    assert "Secure" in proxied.headers["set-cookie"]
    assert "strict-transport-security" not in direct.headers
