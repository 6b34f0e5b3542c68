"""A private Postfix for tests, set up as the README's deployment section says: Debian's Postfix
with its own configuration, queue and data directories in a temporary directory, speaking SMTP
on a free loopback port.

- ``recipient_delimiter = +``: ``bounce+<anything>@<bounce domain>`` is the ``bounce`` alias,
  which delivers to the mailbox Mimamori reads (the private Dovecot, through its LMTP port).
- Every other domain is relayed to one next hop, the test's "remote MX" (an aiosmtpd server that
  refuses whom the test tells it to).
- Queue timers of a second, so a deferred mail is retried, and its sender warned (a "delayed"
  DSN), within seconds.

It runs as a root-started master in its own session (``postfix start-fg``), like Dovecot's
helper: stopping it ends every Postfix process it started. Its log is ``postfix.log`` in the
directory. The base directory is made outside pytest's tmp dir (0700) because Postfix's
unprivileged daemons must reach the queue through every parent of it.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from tests.net import free_port

POSTFIX = "/usr/sbin/postfix"
MAIL_OWNER = "postfix"

_MAIN_CF = """\
compatibility_level = 3.6
queue_directory = {root}/queue
data_directory = {root}/data
maillog_file = {root}/postfix.log
maillog_file_prefixes = {root}
myhostname = mx.{mailbox_domain}
mydomain = {mailbox_domain}
myorigin = $myhostname
mydestination =
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
alias_maps =
alias_database =
smtp_dns_support_level = disabled

# As in the README: bounce+<id>-<tag>@{bounce_domain} is the bounce alias, delivered (its
# extension kept) to the mailbox Mimamori reads, in Dovecot through LMTP.
recipient_delimiter = +
virtual_alias_domains = {bounce_domain}
virtual_alias_maps = inline:{{ bounce@{bounce_domain}={mailbox} }}
virtual_mailbox_domains = {mailbox_domain}
virtual_mailbox_maps = inline:{{ {mailbox}=ok }}
virtual_transport = lmtp:inet:127.0.0.1:{lmtp_port}

# every other domain: the remote MX of the test
relayhost = [127.0.0.1]:{next_hop_port}

# seconds instead of minutes and hours: a deferral is retried, and warned of, at once
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
delay_warning_time = 1s
"""

# Debian's master.cf without the chroot (the queue is in a temporary directory), the local and
# pipe transports, and the unused services; smtpd on the test's port.
_MASTER_CF = """\
127.0.0.1:{port} inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n -  0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n -  - trivial-rewrite
bounce    unix  - - n -  0 bounce
defer     unix  - - n -  0 bounce
trace     unix  - - n -  0 bounce
verify    unix  - - n -  1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n -  - proxymap
smtp      unix  - - n -  - smtp
relay     unix  - - n -  - smtp
showq     unix  n - n -  - showq
error     unix  - - n -  - error
retry     unix  - - n -  - error
discard   unix  - - n -  - discard
lmtp      unix  - - n -  - lmtp
anvil     unix  - - n -  1 anvil
scache    unix  - - n -  1 scache
postlog   unix-dgram n - n - 1 postlogd
"""


class PostfixServer:
    def __init__(self, *, bounce_domain: str, mailbox: str, lmtp_port: int, next_hop_port: int) -> None:
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="mimamori-postfix-"))
        self.root.chmod(0o755)
        self.config = self.root / "conf"
        self.config.mkdir()
        (self.root / "queue").mkdir()
        data = self.root / "data"
        data.mkdir()
        owner = pwd.getpwnam(MAIL_OWNER)
        os.chown(data, owner.pw_uid, owner.pw_gid)
        (self.config / "main.cf").write_text(
            _MAIN_CF.format(
                root=self.root,
                bounce_domain=bounce_domain,
                mailbox=mailbox,
                mailbox_domain=mailbox.rpartition("@")[2],
                lmtp_port=lmtp_port,
                next_hop_port=next_hop_port,
            )
        )
        (self.config / "master.cf").write_text(_MASTER_CF.format(port=self.port))
        self._process: subprocess.Popen[bytes] | None = None
        self._master = 0  # the master's pid, which is also its process group

    def start(self, timeout: float = 30) -> PostfixServer:
        # start-fg keeps the start-up script waiting on the master, which makes a session of its own
        self._process = subprocess.Popen(
            [POSTFIX, "-c", str(self.config), "start-fg"],
            stdout=subprocess.DEVNULL,
            stderr=(self.root / "start.log").open("wb"),
        )
        deadline = time.monotonic() + timeout
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as probe:
                    if probe.recv(100).startswith(b"220"):
                        break
            except OSError:
                pass
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"postfix did not start: {self.log()[-2000:]}")
            time.sleep(0.05)
        self._master = int((self.root / "queue" / "pid" / "master.pid").read_text())
        return self

    def stop(self) -> None:
        """Stop the master and every daemon it started (they share its process group)."""
        if self._process is None:
            return
        subprocess.run([POSTFIX, "-c", str(self.config), "stop"], capture_output=True, timeout=30)
        deadline = time.monotonic() + 15
        while self._master and time.monotonic() < deadline and _group_alive(self._master):
            time.sleep(0.05)
        if self._master:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._master, signal.SIGKILL)
        try:
            self._process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process, self._master = None, 0

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        path = self.root / "postfix.log"
        return path.read_text(errors="replace") if path.exists() else ""


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True
