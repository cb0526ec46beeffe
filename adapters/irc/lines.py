"""IRC lines: the limits and numerics the adapter works with, text made safe for a line and split to
fit, nick folding, the flood budget, and the connection that reads lines (channel chat on a fast path,
everything else through the ``irc`` package's public ``process_data``).
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections import deque
from dataclasses import dataclass

import irc.client_aio
from jaraco.stream import buffer

__all__ = ["MAX_LINE", "PREFIX_RESERVE", "PRIVMSG_FAILURES", "KICK_FAILURES", "ANY_FAILURE", "JOIN_FAILURES",
           "DEFAULT_SERVICES", "FloodBudget", "OutLine", "OutQueue", "LineConnection", "LineReactor", "ReplacingBuffer", "clean", "fold",
           "split_text"]

MAX_LINE = 512  # bytes, including CR LF
PREFIX_RESERVE = 1 + 30 + 1 + 10 + 1 + 63 + 1  # ":nick!user@host " at its longest on common servers
PRIVMSG_FAILURES = {"nosuchnick": "401", "cannotsendtochan": "404", "nochanmodes": "477", "486": "486",
                    "716": "716"}
KICK_FAILURES = {"chanoprivsneeded": "482", "usernotinchannel": "441", "nosuchnick": "401",
                 "nosuchchannel": "403", "notonchannel": "442"}
ANY_FAILURE = {**PRIVMSG_FAILURES, **KICK_FAILURES}
JOIN_FAILURES = {"channelisfull": "471", "inviteonlychan": "473", "bannedfromchan": "474",
                 "badchannelkey": "475", "nochanmodes": "477"}
# Services whose private messages are not people talking to the bot. Only these nicks: a person whose
# nick merely ends in "serv" is a person.
DEFAULT_SERVICES = ("NickServ", "ChanServ", "MemoServ", "OperServ", "BotServ", "HostServ", "SaslServ",
                    "Global", "Alis")


class ReplacingBuffer(buffer.DecodingLineBuffer):
    """Complete lines, decoded as UTF-8 with replacement characters (a stray Latin-1 byte must never
    crash the bot). The same lines as the package's buffer, split with ``bytes.rfind`` and ``str.split``
    instead of a regex and decoded once per read instead of once per line: LF cannot occur inside a
    UTF-8 sequence, so decoding all complete lines at once gives each line what decoding it alone
    would (tests/test_irc_units.py compares them)."""

    errors = "replace"

    def lines(self):
        end = self.buffer.rfind(b"\n")
        if end < 0:
            return iter(())
        complete, self.buffer = self.buffer[:end], self.buffer[end + 1:]
        return (line[:-1] if line[-1:] == "\r" else line
                for line in complete.decode(self.encoding, self.errors).split("\n"))


_RFC1459 = str.maketrans("[]\\~", "{}|^")


class LineConnection(irc.client_aio.AioConnection):
    """The package's connection, reading lines itself first: a plain channel message goes to the
    adapter's fast path (``fast_path`` returns True); every other line goes on through the package's
    own public ``process_data``, so its events and handlers work as documented. ``after_data`` runs
    once per chunk read (backpressure)."""

    buffer_class = ReplacingBuffer

    def fast_path(self, line: str) -> bool:
        return False

    def after_data(self) -> None:
        pass

    def process_data(self, new_data: bytes) -> None:
        lines = self.__dict__.setdefault("_lines", ReplacingBuffer())
        lines.feed(new_data)
        rest = [line for line in lines if line and not self.fast_path(line)]
        if rest:  # (decoded once more by the package's buffer: only the few lines that are not chat)
            super().process_data(("\r\n".join(rest) + "\r\n").encode("utf-8"))
        self.after_data()


class LineReactor(irc.client_aio.AioReactor):
    connection_class = LineConnection


@functools.lru_cache(maxsize=8192)
def fold(name: str) -> str:
    """RFC 1459 case folding for nicks and channels. Cached: a busy gateway folds the same few thousand
    nicks and channels several times for every line (py-spy: 19% of its time before the cache)."""
    return name.lower().translate(_RFC1459)


def clean(text: str) -> str:
    """Remove what could end or corrupt an IRC line (CR, LF, NUL) from user-derived text."""
    return text.replace("\r", " ").replace("\n", " ").replace("\0", "")


def split_text(text: str, max_bytes: int) -> list[str]:
    """Split ``text`` into non-empty lines of at most ``max_bytes`` UTF-8 bytes, on spaces if possible."""
    out: list[str] = []
    for line in text.splitlines():
        line = clean(line).strip()
        while line:
            encoded = line.encode("utf-8")
            if len(encoded) <= max_bytes:
                out.append(line)
                break
            cut = encoded[:max_bytes].decode("utf-8", errors="ignore")  # never half a character
            space = cut.rfind(" ")
            if space > len(cut) // 2:
                cut = cut[:space]
            out.append(cut.rstrip())
            line = line[len(cut):].lstrip()
    return out


class FloodBudget:
    """Token bucket: ``burst`` lines at once, then ``rate`` lines a second; a line over 256 bytes costs
    one extra token (Sopel's defaults are a burst of 4 and 1 line/s)."""

    def __init__(self, burst: float = 4, rate: float = 1.0, clock=time.monotonic):
        self.burst, self.rate, self.clock = float(burst), float(rate), clock
        self.tokens, self.last = float(burst), clock()

    def seconds_for(self, lines: int) -> float:
        """How long writing ``lines`` more lines takes at most (each counted as a long one)."""
        now = self.clock()
        tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        return max(0.0, (2 * lines - tokens) / self.rate)

    def delay(self, nbytes: int) -> float:
        """Take the tokens for one line; return how long to wait before sending it."""
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        self.tokens -= 1 + (nbytes > 256)
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate


@dataclass
class OutLine:
    """One line waiting for the flood budget. ``written``: (resend key, part number) of a protective
    message's line, counted in the resend ledger once written; ``token``: the PING barrier this line is;
    ``queued_at``: set for a reply nobody waits on (kept across a reconnect); ``generation``: the
    connection it was queued for (a confirmed action's line is never written on a later connection: the
    action already failed with ``disconnected`` and its retry queues what is left)."""

    line: str
    priority: int
    generation: int
    written: tuple | None = None
    token: str | None = None
    queued_at: float | None = None


class OutQueue:
    """The adapter's outgoing lines in three lanes: protective (crisis messages, removals, alerts) first;
    routine (replies to commands and private messages, notices, readmissions) after, but never starved:
    after ``SHARE`` protective lines in a row, a waiting routine line goes next (so a moderator's
    ``!resources`` or a person's ``talk`` gets its answer during a flood of crisis messages, at a quarter
    of the rate); bulk (greetings to newcomers) only when nothing else waits. Within a lane, lines keep
    their order, so a PING barrier still follows the lines it confirms.

    Accounting: ``queued`` and ``sent`` count lines in and out (``dropped``: not written, because the
    connection they were queued for is gone, or a reply waited too long); ``ahead(priority)`` is how
    many lines will be written before one queued now."""

    SHARE = 3

    def __init__(self) -> None:
        self.lanes: tuple[deque[OutLine], ...] = (deque(), deque(), deque())
        self._ready = asyncio.Event()
        self._streak = 0
        self.queued = self.sent = self.dropped = 0

    def put(self, item: OutLine) -> None:
        self.lanes[item.priority].append(item)
        self.queued += 1
        self._ready.set()

    def put_nowait(self, item: OutLine) -> None:
        self.put(item)

    def qsize(self) -> int:
        return sum(len(lane) for lane in self.lanes)

    def ahead(self, priority: int) -> int:
        """Lines written before a line queued now at ``priority`` (the other lanes' share included)."""
        urgent, routine, bulk = (len(lane) for lane in self.lanes)
        if priority == 0:
            return urgent + min(routine, urgent // self.SHARE)
        if priority == 1:
            return routine + min(urgent, (routine + 1) * self.SHARE)
        return urgent + routine + bulk

    def pop(self) -> OutLine | None:
        urgent, routine, bulk = self.lanes
        if routine and (not urgent or self._streak >= self.SHARE):
            self._streak = 0
            return routine.popleft()
        if urgent:
            self._streak += 1
            return urgent.popleft()
        if bulk:
            return bulk.popleft()
        return None

    async def get(self) -> OutLine:
        while True:
            item = self.pop()
            if item is not None:
                return item
            self._ready.clear()
            await self._ready.wait()
