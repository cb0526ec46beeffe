"""Test rig for the IRC adapter: a real ngircd on loopback and real IRC client connections.

ngircd comes from Debian's packages (.ci/run installs it). The first client to join a channel gets
operator status there, as on most servers without services; moderators op the bot, as a channel
owner would.
"""

from __future__ import annotations

import asyncio
import shutil

import pytest
import subprocess
import textwrap
import time
from pathlib import Path

from gateway.homeserver import free_port

WAIT = 30.0


def ngircd_path() -> str | None:
    return shutil.which("ngircd") or (
        "/usr/sbin/ngircd" if Path("/usr/sbin/ngircd").exists() else None)


class Ngircd:
    def __init__(self, directory: Path, *, penalties: bool = False, max_joins: int = 10):
        self.dir = Path(directory)
        self.port = free_port()
        self.tls_port = free_port()
        self.ca_file = self.dir / "cert.pem"
        self.penalties = penalties
        self.max_joins = max_joins  # channels one client may join (0: no limit); ngircd's default is 10
        self.process: subprocess.Popen | None = None

    def start(self) -> "Ngircd":
        self.dir.mkdir(parents=True, exist_ok=True)
        conf = self.dir / "ngircd.conf"
        conf.write_text(textwrap.dedent(f"""
            [Global]
            Name = irc.test
            Info = gateway test server
            Listen = 127.0.0.1
            Ports = {self.port}
            MotdPhrase = "test server"
            ServerUID = {__import__('os').getuid()}
            ServerGID = {__import__('os').getgid()}
            [Limits]
            MaxConnectionsIP = 0
            MaxNickLength = 30
            MaxJoins = {self.max_joins}
            {'' if self.penalties else 'MaxPenaltyTime = 0'}
            [Options]
            PAM = no
            Ident = no
            DNS = no
            [SSL]
            CertFile = {self.ca_file}
            KeyFile = {self.dir / "key.pem"}
            Ports = {self.tls_port}
        """))
        if not self.ca_file.exists():
            self._self_signed()
        log = open(self.dir / "ngircd.log", "ab")
        self.process = subprocess.Popen([ngircd_path(), "-n", "-f", str(conf)], stdout=log,
                                        stderr=subprocess.STDOUT)
        log.close()
        import socket

        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("ngircd did not start")

    def _self_signed(self) -> None:
        """A certificate for 127.0.0.1, which the test then trusts as its own CA."""
        import datetime as dt
        import ipaddress

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
        now = dt.datetime.now(dt.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(hours=1))
                .not_valid_after(now + dt.timedelta(days=2))
                .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                               critical=False)
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .sign(key, hashes.SHA256()))
        self.ca_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        (self.dir / "key.pem").write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


@pytest.fixture
def ngircd(tmp_path):
    """A fresh ngircd for one test (a test that restarts or crashes things gets its own server)."""
    if ngircd_path() is None:
        pytest.skip("ngircd is not installed: apt-get install ngircd")
    server = Ngircd(tmp_path / "ngircd").start()
    yield server
    server.stop()


class IrcPerson:
    """A real IRC client connection that records every line it receives."""

    def __init__(self, port: int, nick: str):
        self.port, self.nick = port, nick
        self.lines: list[str] = []
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self._task: asyncio.Task | None = None

    async def connect(self) -> "IrcPerson":
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        self._task = asyncio.create_task(self._read())
        self.send(f"NICK {self.nick}", f"USER {self.nick} 0 * :{self.nick}")
        await self.wait_for("welcome", lambda: self.find(" 001 "))
        return self

    async def _read(self) -> None:
        assert self.reader is not None
        while True:
            raw = await self.reader.readline()
            if not raw:
                return
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            if line.startswith("PING "):
                self.send("PONG " + line[5:])
            self.lines.append(line)

    def send(self, *lines: str) -> None:
        assert self.writer is not None
        self.writer.write("".join(f"{line}\r\n" for line in lines).encode())

    def send_bytes(self, data: bytes) -> None:
        assert self.writer is not None
        self.writer.write(data)

    def find(self, *parts: str) -> list[str]:
        return [line for line in self.lines if all(p in line for p in parts)]

    async def wait_for(self, what: str, found, timeout: float = WAIT):
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            result = found()
            if result:
                return result
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{self.nick} never saw {what}")
            await asyncio.sleep(0.05)

    async def join(self, channel: str) -> None:
        self.send(f"JOIN {channel}")
        await self.wait_for(f"its join of {channel}", lambda: self.find(" 366 ", channel))

    async def close(self) -> None:
        if self.writer is not None:
            try:
                self.send("QUIT :bye")
                await self.writer.drain()
            except (ConnectionError, RuntimeError):
                pass
            self.writer.close()
        if self._task is not None:
            self._task.cancel()
