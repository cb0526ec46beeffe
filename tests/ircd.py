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

from gateway.demo.homeserver import free_port

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


def inspircd_paths() -> tuple[str, str] | None:
    """(inspircd, anope) from Debian's packages, if both are installed."""
    insp = shutil.which("inspircd") or ("/usr/sbin/inspircd" if Path("/usr/sbin/inspircd").exists() else None)
    anope = shutil.which("anope") or ("/usr/sbin/anope" if Path("/usr/sbin/anope").exists() else None)
    return (insp, anope) if insp and anope else None


class Inspircd:
    """InspIRCd 3 linked to Anope 2 services (NickServ, SASL): what ngircd lacks, so that SASL, IRCv3
    account-tag, account-notify and extended-join are tested for real.

    Set-up notes (each cost a failed run): InspIRCd ops a channel's creator only with ``o`` in
    ``defaultmodes``; Anope needs ``casemap = "rfc1459"`` to link to InspIRCd; Anope's per-IP session
    limit (os_session) would kill test clients on loopback, so OperServ is not loaded; both refuse to
    run as root unless told (``--runasroot``; Anope only warns); Anope refuses to link unless InspIRCd
    loads ``hidechans``."""

    def __init__(self, directory: Path):
        self.dir = Path(directory)
        self.port, self.link_port = free_port(), free_port()
        self.tls_port = None  # TLS is tested on ngircd
        self.ca_file = self.dir / "cert.pem"  # unused, but the test config names one
        self.insp: subprocess.Popen | None = None
        self.anope: subprocess.Popen | None = None

    def start(self) -> "Inspircd":
        self.dir.mkdir(parents=True, exist_ok=True)
        if not self.ca_file.exists():
            Ngircd._self_signed(self)  # type: ignore[arg-type]
        self.start_ircd()
        self.start_services()
        return self

    def start_ircd(self) -> None:
        d = self.dir
        (d / "inspircd.conf").write_text(textwrap.dedent(f"""
            <server name="irc.test" description="gateway test server" network="Test" id="1GW">
            <admin name="test" nick="test" email="test@irc.test">
            <bind address="127.0.0.1" port="{self.port}" type="clients">
            <bind address="127.0.0.1" port="{self.link_port}" type="servers">
            <connect name="main" allow="*" maxchans="100" localmax="1000" globalmax="1000" maxconnwarn="no"
                     limit="5000" fakelag="no" commandrate="100000000" penaltythreshold="100000" threshold="10000"
                     recvq="65536" sendq="1048576" softsendq="1048576" hardsendq="1048576" pingfreq="120"
                     timeout="60" useident="no" resolvehostnames="no" usednsbl="no">
            <options defaultmodes="nto" allowhalfop="no" hostintopic="no">
            <performance clonesonconnect="no">
            <dns timeout="1">
            <pid file="{d / 'inspircd.pid'}">
            <log method="file" type="* -USERINPUT -USEROUTPUT" level="default" target="{d / 'inspircd.log'}">
            <module name="cap">
            <module name="ircv3">
            <module name="ircv3_accounttag">
            <module name="ircv3_capnotify">
            <module name="sasl">
            <module name="services_account">
            <module name="spanningtree">
            <module name="hidechans">
            <module name="inviteexception">
            <sasl target="services.test">
            <link name="services.test" ipaddr="127.0.0.1" port="{self.link_port}" allowmask="127.0.0.0/8"
                  sendpass="linkpass" recvpass="linkpass">
            <uline server="services.test" silent="yes">
        """))
        log = open(d / "inspircd.out", "ab")
        self.insp = subprocess.Popen([inspircd_paths()[0], f"--config={d / 'inspircd.conf'}", "--nofork",
                                      "--runasroot"], stdout=log, stderr=subprocess.STDOUT)
        log.close()
        _wait_for_port(self.port, "inspircd")

    def start_services(self) -> None:
        d = self.dir / "anope"
        for sub in ("conf", "db", "logs"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        (d / "conf" / "services.motd").write_text("test services\n")
        (d / "conf" / "services.conf").write_text(ANOPE_CONF.format(link_port=self.link_port, dir=d))
        log = open(self.dir / "anope.out", "ab")
        self.anope = subprocess.Popen(
            [inspircd_paths()[1], f"--confdir={d / 'conf'}", f"--dbdir={d / 'db'}", f"--logdir={d / 'logs'}",
             "--modulesdir=/usr/lib/anope", "--nofork"], stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.anope.poll() is not None:
                break
            if self.services_answer():
                return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"anope did not link to inspircd; see {self.dir / 'anope.out'}")

    def services_answer(self) -> bool:
        """Whether NickServ answers a client now (services linked and synced)."""
        import socket

        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2) as sock:
                sock.sendall(b"NICK probe\r\nUSER probe 0 * :probe\r\n")
                data, asked = b"", False
                while b":NickServ!" not in data:
                    chunk = sock.recv(65536)
                    if not chunk:
                        return False
                    data += chunk
                    if not asked and b" 001 " in data:
                        sock.sendall(b"PRIVMSG NickServ :HELP\r\n")
                        asked = True
                    if b" 401 " in data:  # no NickServ yet
                        return False
                sock.sendall(b"QUIT\r\n")
                return True
        except OSError:
            return False

    def stop_ircd(self) -> None:
        _terminate(self.insp)
        self.insp = None

    def stop_services(self) -> None:
        _terminate(self.anope)
        self.anope = None

    def stop(self) -> None:
        self.stop_services()
        self.stop_ircd()


ANOPE_CONF = """
define {{ name = "services.host"; value = "services.test" }}
uplink {{ host = "127.0.0.1"; ipv6 = no; ssl = no; port = {link_port}; password = "linkpass" }}
serverinfo {{ name = "services.test"; description = "Services"; id = "00A"; pid = "{dir}/anope.pid"; motd = "{dir}/conf/services.motd" }}
module {{ name = "inspircd3" }}
networkinfo {{ networkname = "Test"; nicklen = 31; userlen = 10; hostlen = 64; chanlen = 32; modelistsize = 100; vhost_chars = "._-"; allow_undotted_vhosts = false; disallow_start_or_end = ".-" }}
options {{
  casemap = "rfc1459"; readtimeout = 5s; warningtimeout = 4h; timeoutcheck = 3s; seed = 42
  useprivmsg = yes; usestrictprivmsg = no; hideprivilegedcommands = no; hideregisteredcommands = no
  languages = ""; defaultlanguage = ""; retrywait = 1s; expiretimeout = 1d; botmodes = ""; newscount = 0
  ulineservers = "services.test"
}}
log {{ target = "services.log"; bot = ""; logage = 1; admin = "*"; override = "*"; commands = "*"; servers = "*"; users = ""; other = "*"; rawio = no; debug = no }}
mail {{ usemail = no }}
module {{ name = "db_flatfile"; database = "anope.db"; keepbackups = 0; fork = no }}
module {{ name = "enc_sha256" }}
service {{ nick = "NickServ"; user = "services"; host = "services.host"; gecos = "Nickname Registration Service" }}
module {{
  name = "nickserv"; client = "NickServ"; forceemail = no; confirmemailchanges = no; defaults = "memo_signon"
  regdelay = 0s; restrictopernicks = no; guestnickprefix = "Guest"; releasetimeout = 1m; expire = 0
  secureadmins = no; modesonid = ""; hidenetsplitquit = no; killquick = 20s; kill = 60s; nonicknameownership = no
}}
module {{ name = "ns_register"; registration = "none"; resenddelay = 90s; unconfirmedexpire = 1d; nickregdelay = 0 }}
module {{ name = "ns_identify"; maxlogins = 100 }}
module {{ name = "ns_logout" }}
module {{ name = "ns_recover"; restoreonrecover = yes }}
module {{ name = "m_sasl" }}
module {{ name = "help" }}
command {{ service = "NickServ"; name = "HELP"; command = "generic/help" }}
command {{ service = "NickServ"; name = "REGISTER"; command = "nickserv/register" }}
command {{ service = "NickServ"; name = "IDENTIFY"; command = "nickserv/identify" }}
command {{ service = "NickServ"; name = "LOGOUT"; command = "nickserv/logout" }}
command {{ service = "NickServ"; name = "RECOVER"; command = "nickserv/recover" }}
"""


def _wait_for_port(port: int, what: str) -> None:
    import socket

    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not start")


def _terminate(process: subprocess.Popen | None) -> None:
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def start_server(kind: str, directory: Path):
    """Start a fresh server of ``kind`` ("ngircd" or "inspircd", the latter with Anope), or skip (a
    failure under CI) when its packages are not installed."""
    if kind == "ngircd":
        if ngircd_path() is None:
            pytest.skip("ngircd is not installed: apt-get install ngircd")
        return Ngircd(directory / "ngircd").start()
    if inspircd_paths() is None:
        pytest.skip("inspircd and anope are not installed: apt-get install inspircd anope")
    return Inspircd(directory / "inspircd").start()


@pytest.fixture
def inspircd(tmp_path):
    """A fresh InspIRCd with Anope services for one test."""
    server = start_server("inspircd", tmp_path)
    yield server
    server.stop()


@pytest.fixture(params=["ngircd", "inspircd"])
def any_ircd(request, tmp_path):
    """A fresh server for one test, once ngircd and once InspIRCd with Anope services."""
    server = start_server(request.param, tmp_path)
    yield server
    server.stop()


@pytest.fixture
def ngircd(tmp_path):
    """A fresh ngircd for one test (a test that restarts or crashes things gets its own server)."""
    server = start_server("ngircd", tmp_path)
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

    async def register_account(self, password: str) -> None:
        """Register this nick with NickServ (Anope logs the registrant in at once)."""
        self.send(f"PRIVMSG NickServ :REGISTER {password} {self.nick}@example.org")
        await self.wait_for("the registration", lambda: self.find("NickServ!", "registered"))

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
