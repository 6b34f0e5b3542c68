"""The TLS ``serve`` speaks when it terminates TLS itself: 1.2 and 1.3, AEAD suites only."""

from __future__ import annotations

import ssl
from collections.abc import Callable

import uvicorn

# TLS 1.3 suites are all AEAD (OpenSSL keeps them apart from this list). On 1.2 only ECDHE with
# AES-GCM or ChaCha20-Poly1305: CBC suites are what testssl flags as LUCKY13, and plain RSA key
# exchange has no forward secrecy.
TLS12_SUITES = "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL"


def portal_context(config: uvicorn.Config, default: Callable[[], ssl.SSLContext]) -> ssl.SSLContext:
    """Uvicorn's context (certificate, key, ALPN) narrowed to TLS 1.2+ and AEAD suites."""
    context = default()
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(TLS12_SUITES)
    context.options |= ssl.OP_NO_COMPRESSION | ssl.OP_NO_RENEGOTIATION
    return context
