"""A private Dovecot for tests: its own config in a temporary directory, a free loopback port,
one passwd-file user, Maildir storage, no TLS; with ``lmtp=True`` also an LMTP port, where an MTA
delivers as a deployment's Postfix does (``user+detail@domain`` goes to ``user``'s INBOX).

Mail is delivered the way any MDA does it (a file written to ``tmp/`` and renamed into ``new/``),
so it works while the server is stopped too. The base directory is made outside pytest's own
tmp dir (0700), because Dovecot's unprivileged processes must traverse every parent of it, and
the mail belongs to ``nobody``: Dovecot refuses uid 0 for mail.
"""

from __future__ import annotations

import contextlib
import imaplib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from tests.net import free_port

DOVECOT = "/usr/sbin/dovecot"
MAIL_USER = "nobody"

_CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = {protocols}
listen = 127.0.0.1
{ssl}
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{root}/mail/%u
recipient_delimiter = +
auth_username_format = %Ln  # LMTP names mimamori+…@city.example.jp: the user mimamori, as in the README
mail_uid = {uid}
mail_gid = {gid}
first_valid_uid = 1
mailbox_idle_check_interval = 1 secs
imap_idle_notify_interval = 1 mins
default_login_user = dovenull
default_internal_user = dovecot
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
  }}
}}
{lmtp_service}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""

_LMTP_SERVICE = """\
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {port}
  }}
}}
"""


class ImapServer:
    def __init__(
        self, user: str = "mimamori", password: str = "secret-imap-pass", *, tls: bool = False, lmtp: bool = False
    ) -> None:
        self.user, self.password = user, password
        self.port = free_port()
        self.lmtp_port = free_port() if lmtp else 0
        self.tls_port = free_port() if tls else 0
        self.root = Path(tempfile.mkdtemp(prefix="mimamori-dovecot-"))
        self.root.chmod(0o755)
        self._process: subprocess.Popen[bytes] | None = None
        account = pwd.getpwnam(MAIL_USER)
        self._uid, self._gid = account.pw_uid, account.pw_gid
        (self.root / "users").write_text(f"{user}:{{PLAIN}}{password}::::::\n")
        ssl_setting = "ssl = no"
        if tls:
            self.certificate = _self_signed(self.root)
            ssl_setting = f"ssl = yes\nssl_cert = <{self.certificate}\nssl_key = <{self.root / 'key.pem'}"
        self.config = self.root / "dovecot.conf"
        self.config.write_text(
            _CONFIG.format(
                root=self.root,
                port=self.port,
                tls_port=self.tls_port,
                uid=self._uid,
                gid=self._gid,
                ssl=ssl_setting,
                protocols="imap lmtp" if lmtp else "imap",
                lmtp_service=_LMTP_SERVICE.format(port=self.lmtp_port) if lmtp else "",
            )
        )
        for sub in ("run", "state", "mail"):
            (self.root / sub).mkdir()
        self.maildir = self.root / "mail" / user
        for sub in ("cur", "new", "tmp"):
            (self.maildir / sub).mkdir(parents=True)
        for path in [self.root / "mail", *self.root.joinpath("mail").rglob("*")]:
            os.chown(path, self._uid, self._gid)

    # ---- the server ---------------------------------------------------------------------------

    def start(self, timeout: float = 20) -> ImapServer:
        self._process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group, stopped as a whole like a systemd unit
        )
        deadline = time.monotonic() + timeout
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as probe:
                    if probe.recv(100).startswith(b"* OK"):
                        return self
            except OSError:
                pass
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"dovecot did not start: {self.log()[-2000:]}")
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop the server and every process it started (an IMAP process left serving an IDLE
        client would otherwise outlive its master)."""
        if self._process is not None:
            group = os.getpgid(self._process.pid)
            self._process.terminate()
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)
            self._process = None

    def freeze(self) -> None:
        """Stop every server process without closing a connection: a hung server."""
        if self._process is not None:
            os.killpg(os.getpgid(self._process.pid), signal.SIGSTOP)

    def thaw(self) -> None:
        if self._process is not None:
            os.killpg(os.getpgid(self._process.pid), signal.SIGCONT)

    def restart(self) -> None:
        self.stop()
        self.start()

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    # ---- mail -----------------------------------------------------------------------------------

    def deliver(self, message: bytes | str) -> None:
        """Put a message in the INBOX as a delivery agent would (works while stopped too)."""
        data = message.encode() if isinstance(message, str) else message
        name = f"{time.time_ns()}.{uuid.uuid4().hex}.mimamori-test"
        temporary = self.maildir / "tmp" / name
        temporary.write_bytes(data.replace(b"\r\n", b"\n"))
        os.chown(temporary, self._uid, self._gid)
        temporary.rename(self.maildir / "new" / name)

    def client(self) -> imaplib.IMAP4:
        connection = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        connection.login(self.user, self.password)
        return connection

    def subjects(self, mailbox: str = "INBOX") -> list[str]:
        """Subjects of the messages in ``mailbox``, read without marking them seen."""
        connection = self.client()
        try:
            status, _ = connection.select(f'"{mailbox}"', readonly=True)
            if status != "OK":
                return []
            _, data = connection.uid("FETCH", "1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
            return [
                part[1].decode(errors="replace").partition(":")[2].strip() for part in data if isinstance(part, tuple)
            ]
        finally:
            connection.logout()

    def uidvalidity(self, mailbox: str = "INBOX") -> int:
        connection = self.client()
        try:
            connection.select(f'"{mailbox}"', readonly=True)
            return int(connection.response("UIDVALIDITY")[1][0])
        finally:
            connection.logout()

    def flags(self, mailbox: str = "INBOX") -> list[str]:
        connection = self.client()
        try:
            connection.select(f'"{mailbox}"', readonly=True)
            _, data = connection.uid("FETCH", "1:*", "(FLAGS)")
            return [line.decode() for line in data if isinstance(line, bytes)]
        finally:
            connection.logout()


def _self_signed(root: Path) -> Path:
    """A certificate for 127.0.0.1, which the test trusts through ``SSL_CERT_FILE``."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    (root / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    path = root / "cert.pem"
    path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return path
