"""The gateway's config file (``gateway.yaml``): networks, event log, policy directory, rooms.

Paths are relative to the config file. Secrets never live in it: a network names the environment
variables that hold them (``password_env``, ``access_token_env``, ...), and a key that looks like a
secret itself is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .crisis import INTERNATIONAL, ISO_REGIONS, CrisisDirectory, load_directory
from .engine import Engine, RoomBinding
from .policy import GatewayLimits, Policy, PolicyLoader
from .validate import MISSING, Checker
from .yamlsrc import ConfigError, ConfigErrors, load_located

__all__ = ["Config", "NetworkConfig", "load_config", "build_engine", "reload_rooms"]

NETWORK_KEYS = {
    "matrix": ("homeserver", "user_id", "device_id", "password_env", "access_token_env", "ignore_bots"),
    "irc": ("host", "port", "tls", "nick", "username", "realname", "sasl_account", "sasl_password_env",
            "nickserv_password_env", "flood_burst", "flood_rate", "tls_ca_file", "op_wait", "ignore_bots",
            "services"),
}
_SECRET_WORDS = ("password", "token", "secret")


@dataclass(frozen=True)
class NetworkConfig:
    name: str
    type: str
    settings: dict[str, Any]

    @property
    def bot_id(self) -> str | None:
        return self.settings.get("user_id") or self.settings.get("nick")


@dataclass(frozen=True)
class Config:
    file: Path
    event_log: Path
    policy_dirs: list[Path]
    networks: dict[str, NetworkConfig]
    rooms: list[RoomBinding]
    directory: CrisisDirectory
    policies: dict[str, Policy]
    limits: GatewayLimits = GatewayLimits()
    channel_keys: dict[tuple[str, str], str] = field(default_factory=dict)  # (network, room) -> IRC key


def load_config(path: str | Path) -> Config:
    """Load and validate the config and every policy it names; raise ``ConfigErrors`` on any error."""
    path = Path(path)
    doc = load_located(path)
    base = path.resolve().parent
    c = Checker(doc)
    top = c.mapping((), doc.value, required=("event_log", "networks", "rooms"),
                    optional=("policy_dir", "crisis_lines", "limits"))
    if top is None:
        c.raise_if_errors()
    event_log = c.string(("event_log",), top.get("event_log"))
    policy_dir = top.get("policy_dir")
    dirs = []
    if policy_dir is not None and c.string(("policy_dir",), policy_dir) is not MISSING:
        d = base / policy_dir
        if not d.is_dir():
            c.error(("policy_dir",), f"no such directory: {d}")
        dirs.append(d)
    directory = None
    try:
        directory = load_directory(base / top["crisis_lines"]) if top.get("crisis_lines") else load_directory()
    except ConfigError as exc:
        c.errors.append(exc)
    except ConfigErrors as exc:
        c.errors.extend(exc.errors)

    networks: dict[str, NetworkConfig] = {}
    for name, raw in (c.mapping(("networks",), top.get("networks"), any_keys=True) or {}).items():
        p = ("networks", name)
        kind = raw.get("type") if isinstance(raw, dict) else None
        if kind not in NETWORK_KEYS:
            c.error(p + ("type",), f"expected type matrix or irc, got {kind!r}")
            continue
        settings = c.mapping(p, raw, required=("type",), optional=NETWORK_KEYS[kind])
        if settings is None:
            continue
        for k in settings:
            if isinstance(k, str) and any(w in k for w in _SECRET_WORDS) and not k.endswith("_env"):
                c.error(p + (k,), f"secrets come from environment variables: use {k}_env", key=True)
        values = {k: v for k, v in settings.items() if k != "type"}
        for k in ("ignore_bots", "services"):  # other bots' ids; IRC: the network's services nicks
            if k in values:
                values[k] = tuple(c.string_list(p + (k,), values[k]))
        if isinstance(values.get("tls_ca_file"), str):
            ca = base / values["tls_ca_file"]
            if not ca.is_file():
                c.error(p + ("tls_ca_file",), f"no such file: {ca}")
            values["tls_ca_file"] = str(ca)
        networks[name] = NetworkConfig(name, kind, values)

    loader = PolicyLoader(dirs)
    policies: dict[str, Policy] = {}
    rooms: list[RoomBinding] = []
    raw_rooms = top.get("rooms")
    if not isinstance(raw_rooms, list) or not raw_rooms:
        c.error(("rooms",), "expected a non-empty list of rooms")
        raw_rooms = []
    seen = set()
    mod_rooms: list[tuple] = []  # (key path, network, room, set here rather than by the policy)
    channel_keys: dict[tuple[str, str], str] = {}
    for i, raw in enumerate(raw_rooms):
        p = ("rooms", i)
        r = c.mapping(p, raw, required=("network", "room"),
                      optional=("policy", "region", "moderators_room", "moderators_network", "name", "key"))
        if r is None:
            continue
        net = r.get("network")
        if net not in networks:
            c.error(p + ("network",), f"no network named {net!r} under 'networks'")
            continue
        room = c.string(p + ("room",), r.get("room"), max_len=255)
        if room is MISSING:
            continue
        if (net, room) in seen:
            c.error(p + ("room",), "room listed twice")
        seen.add((net, room))
        pname = r.get("policy", "default")
        if pname not in policies:
            resolved = loader.resolve(str(pname), base)
            try:
                policies[pname] = loader.load(str(resolved or pname))
            except ConfigErrors as exc:
                c.errors.extend(exc.errors)
                continue
            except ConfigError as exc:
                c.errors.append(exc)
                continue
        policy = policies[pname]
        region = r.get("region", policy.region)
        if not isinstance(region, str) or (region != INTERNATIONAL and region not in ISO_REGIONS):
            c.error(p + ("region",), f"unknown region code {region!r} (ISO 3166-1 alpha-2, or INTL)")
            continue
        mod_net = r.get("moderators_network", policy.moderators.network or net)
        if mod_net not in networks:
            c.error(p + ("moderators_network",), f"no network named {mod_net!r}")
            continue
        mod_room = r.get("moderators_room", policy.moderators.room)
        if mod_room is None:
            c.error(p, "no moderators' room: set moderators.room in the policy or moderators_room here "
                       "(an at-risk person must never be handled without telling a human)")
            continue
        if "moderators_room" in r and c.string(p + ("moderators_room",), mod_room, max_len=255) is MISSING:
            continue
        mod_rooms.append((p, mod_net, mod_room, "moderators_room" in r))
        name = c.string(p + ("name",), r["name"], max_len=100) if r.get("name") is not None else None
        if name is MISSING:
            continue
        if r.get("key") is not None:  # an IRC channel key (+k): the bot cannot join without it
            key = c.string(p + ("key",), r["key"], max_len=50)
            if networks[net].type != "irc":
                c.error(p + ("key",), "channel keys exist on IRC only", key=True)
            elif isinstance(key, str) and any(ch.isspace() or ch == "," for ch in key):
                c.error(p + ("key",), "a channel key has no spaces or commas")
            elif isinstance(key, str):
                channel_keys[(net, room)] = key
        rooms.append(RoomBinding(net, room, policy, region, mod_net, mod_room,
                                 network_type=networks[net].type, name=name))
    for p, mod_net, mod_room, here in mod_rooms:
        if (mod_net, mod_room) in seen:  # alerts name the person: the watched room must never see them
            where = p + ("moderators_room",) if here else p
            c.error(where, f"the moderators' room {mod_room!r} is a watched group room: alerts name the "
                           f"person at risk, so they would be posted to everyone there. Use a separate, "
                           f"private room for moderators" + ("" if here else " (set by the policy's "
                                                              "moderators.room)"))
    limits = _gateway_limits(c, top.get("limits", {}))
    c.raise_if_errors()
    return Config(path, base / event_log, dirs, networks, rooms, directory, policies, limits, channel_keys)


def _gateway_limits(c: Checker, raw: Any) -> GatewayLimits:
    p, d = ("limits",), GatewayLimits()
    m = c.mapping(p, raw, optional=("window", "cases", "private_messages", "talk_requests")) or {}
    return GatewayLimits(
        window=c.duration(p + ("window",), m.get("window", d.window)),
        cases=c.integer(p + ("cases",), m.get("cases", d.cases), lo=1, hi=1_000_000),
        private_messages=c.integer(p + ("private_messages",), m.get("private_messages", d.private_messages),
                                   lo=0, hi=1_000_000),
        talk_requests=c.integer(p + ("talk_requests",), m.get("talk_requests", d.talk_requests), lo=1,
                                hi=1_000_000))


def build_engine(config: Config) -> Engine:
    bot_ids = {n: nc.bot_id for n, nc in config.networks.items() if nc.bot_id}
    other_bots = {n: frozenset(nc.settings.get("ignore_bots", ())) for n, nc in config.networks.items()}
    return Engine(config.rooms, config.directory, bot_ids=bot_ids, other_bots=other_bots, limits=config.limits)


def reload_rooms(engine: Engine, path: str | Path) -> list[ConfigError]:
    """Validate the config and its policies again and apply them only if all are valid.

    Returns the errors (nothing applied) or an empty list (applied). A reload therefore never
    replaces a good policy with a bad one, and the engine keeps protecting people either way.
    """
    try:
        config = load_config(path)
    except ConfigErrors as exc:
        return list(exc.errors)
    except ConfigError as exc:
        return [exc]
    engine.set_rooms(config.rooms)
    engine.directory = config.directory
    engine.limits = config.limits
    return []
