"""The gateway's config file (``gateway.yaml``): networks, event log, policy directory, rooms.

Paths are relative to the config file. Secrets never live in it: a network names the environment
variables that hold them (``password_env``, ``access_token_env``, ...), and a key that looks like a
secret itself is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ..policy.crisis_lines import INTERNATIONAL, ISO_REGIONS, CrisisDirectory, load_directory, region_hint
from ..core.engine import Engine
from ..core.rooms import RoomBinding
from ..policy.model import GatewayLimits, Policy
from ..policy.loader import PolicyLoader
from ..yamlfiles.checker import MISSING, Checker, did_you_mean
from ..yamlfiles.located import ConfigError, ConfigErrors, load_located

__all__ = ["Config", "NetworkConfig", "load_config", "build_engine", "reload_rooms"]

NETWORK_KEYS = {
    "matrix": ("homeserver", "user_id", "device_id", "password_env", "access_token_env", "ignore_bots",
               "encryption"),
    "irc": ("host", "port", "tls", "nick", "username", "realname", "sasl_account", "sasl_password_env",
            "nickserv_password_env", "flood_burst", "flood_rate", "tls_ca_file", "op_wait", "ignore_bots",
            "services", "services_server"),
}
_SECRET_WORDS = ("password", "token", "secret")  # in a key's name: the value is a secret given inline

# The shapes of names, per network. A room in the wrong shape would only fail when the bot tries to join.
_URL = re.compile(r"https?://[^\s/?#]+(?::\d+)?/?")
_MATRIX_USER = re.compile(r"@[^:\s]+:[^\s]+")
_MATRIX_ROOM = re.compile(r"![^:\s]+(?::[^\s]+)?|#[^:\s]+:[^\s]+")  # room version 12 ids have no server part
_IRC_CHANNEL = re.compile(r"[#&][^\s,\x07]{1,49}")
_IRC_NICK = re.compile(r"[A-Za-z\[\]\\`_^{|}][A-Za-z0-9\[\]\\`_^{|}-]{0,29}")
_HOST = re.compile(r"[A-Za-z0-9.:\[\]-]+")
ROOM_SHAPE = {
    "matrix": (_MATRIX_ROOM, "a Matrix room id (!abc or !abc:example.org) or alias (#name:example.org)"),
    "irc": (_IRC_CHANNEL, "an IRC channel (#name or &name, no spaces or commas)"),
}
ENCRYPTION_KEYS = ("enabled", "store", "pickle_key_env", "trust", "verified_devices")
_VERIFIED_DEVICE = re.compile(r"@[^:\s]+:\S+ [A-Za-z0-9_-]{1,64} [A-Za-z0-9+/]{43}")
TRUST_MODES = ("all-devices", "verified-only")  # what adapters/matrix/crypto.py acts on


def _encryption(c: Checker, p: tuple, raw: Any, base: Path, data_dir: Path, network: str,
                environ: Mapping[str, str] | None) -> dict[str, Any]:
    """``encryption:`` of a Matrix network: on by default (``false`` turns it off, or a mapping of
    ENCRYPTION_KEYS). The crypto store defaults to ``crypto/<network>`` beside the event log; its pickle
    key comes from ``pickle_key_env``, else from a key file created beside the store."""
    out: dict[str, Any] = {"enabled": True, "store": data_dir / "crypto" / network, "trust": "all-devices",
                           "pickle_key_file": data_dir / "crypto" / f"{network}.key"}
    if isinstance(raw, bool):
        out["enabled"] = raw
        return out
    inline = _inline_secrets(c, p, raw, ENCRYPTION_KEYS, network)
    e = c.mapping(p, raw, optional=ENCRYPTION_KEYS + inline)
    if e is None:
        return out
    if "enabled" in e and c.boolean(p + ("enabled",), e["enabled"]) is not MISSING:
        out["enabled"] = e["enabled"]
    if "store" in e and c.string(p + ("store",), e["store"]) is not MISSING:
        out["store"] = base / e["store"]
    if "trust" in e and c.choice(p + ("trust",), e["trust"], TRUST_MODES) is not MISSING:
        out["trust"] = e["trust"]
    if "verified_devices" in e:
        out["verified_devices"] = tuple(
            tuple(d.split(" ")) for i, d in enumerate(c.string_list(p + ("verified_devices",), e["verified_devices"]))
            if c.matching(p + ("verified_devices", i), d, _VERIFIED_DEVICE,
                          "'@user:server DEVICEID fingerprint': the device's id and its ed25519 key (Element: "
                          "Settings, Sessions, the session's key), as its owner reads them to you") is not MISSING)
        if out["trust"] != "verified-only":
            c.error(p + ("verified_devices",), "verified_devices needs trust: verified-only (all-devices sends "
                                               "keys to every device anyway)", key=True)
    if "pickle_key_env" in e:
        name = c.env_name(p + ("pickle_key_env",), e["pickle_key_env"], _env_example(network, "pickle_key_env"),
                          environ)
        if name is not MISSING:
            out["pickle_key_env"] = name
            out.pop("pickle_key_file")
            if environ is not None and out["enabled"] and not environ.get(name):
                c.error(p + ("pickle_key_env",), f"the environment variable {name} is not set (it holds the "
                                                 f"crypto store's pickle key; export it before gateway run)")
    return out


def _env_example(network: Any, key: str) -> str:
    """A variable name to suggest for ``key`` of ``network``: ``GATEWAY_MX_PASSWORD`` for mx's password_env."""
    return re.sub(r"[^A-Z0-9]+", "_", f"GATEWAY_{network}_{key.removesuffix('_env')}".upper())


def _inline_secrets(c: Checker, p: tuple, raw: Any, keys: tuple[str, ...], network: Any) -> tuple[str, ...]:
    """Keys of ``raw`` that hold a secret in the file itself (``password:``): one error each, saying which
    ``*_env`` key to use instead, and the key's value shown nowhere. Returns them, so that the mapping's
    check does not report them a second time as unknown keys."""
    if not isinstance(raw, dict):
        return ()
    found = tuple(k for k in raw if isinstance(k, str) and k not in keys and not k.endswith("_env")
                  and any(w in k for w in _SECRET_WORDS + ("pickle_key",)))
    env_keys = [k for k in keys if k.endswith("_env")]
    for k in found:
        use = f"{k}_env" if f"{k}_env" in env_keys else (_closest_env_key(k, env_keys) or "an *_env key")
        c.error(p + (k,), f"a secret never goes in this file: export it as, say, {_env_example(network, use)} "
                          f"and write {use}: {_env_example(network, use)}; if this file was shared, change the "
                          f"secret", key=True)
    return found


def _closest_env_key(key: str, env_keys: list[str]) -> str | None:
    import difflib

    found = difflib.get_close_matches(f"{key}_env", env_keys, n=1, cutoff=0.3)
    return found[0] if found else None


def _userinfo(c: Checker, path: tuple, value: Any) -> bool:
    """A server address with ``user:password@`` in it: refused without being shown (it would be echoed,
    and the address is logged at every connection)."""
    if isinstance(value, str) and "@" in value:
        c.error(path, "a server's address carries no user or password (not shown here): give the address "
                      "alone and the password through an *_env key; if this file was shared, change the secret")
        return True
    return False


def _network_settings(c: Checker, p: tuple, kind: str, raw: dict, base: Path,
                      environ: Mapping[str, str] | None, secret_in_file: bool = False,
                      data_dir: Path | None = None) -> dict[str, Any]:
    """Every setting of a network typed and checked, so that ``run`` never meets a value it cannot use.

    ``environ``: when given (``gateway run``), the environment variables named must be set in it."""
    values: dict[str, Any] = {}

    def take(key: str, value: Any) -> None:
        if value is not MISSING:
            values[key] = value

    def env(key: str) -> None:
        if key not in raw:
            return
        name = c.env_name(p + (key,), raw[key], _env_example(p[-1], key), environ)
        if name is MISSING:
            return
        values[key] = name
        if environ is not None and not environ.get(name):
            c.error(p + (key,), f"the environment variable {name} is not set (it holds the secret; export it "
                                f"before gateway run)")

    if kind == "matrix":
        for key in ("homeserver", "user_id"):
            if key not in raw:
                c.error(p, f"missing required key '{key}'")
        if "homeserver" in raw and not _userinfo(c, p + ("homeserver",), raw["homeserver"]):
            take("homeserver", c.matching(p + ("homeserver",), raw["homeserver"], _URL,
                                          "a URL with its scheme, like https://matrix.example.org"))
        if "user_id" in raw:
            take("user_id", c.matching(p + ("user_id",), raw["user_id"], _MATRIX_USER,
                                       "a Matrix user id, like @safety-bot:example.org"))
        if "device_id" in raw:
            take("device_id", c.string(p + ("device_id",), raw["device_id"], max_len=100))
        env("password_env")
        env("access_token_env")
        if "password_env" not in raw and "access_token_env" not in raw and not secret_in_file:
            c.error(p, "missing 'password_env' or 'access_token_env': the environment variable with the "
                       "bot's password or access token")
        if "ignore_bots" in raw:
            values["ignore_bots"] = tuple(u for i, u in enumerate(c.string_list(p + ("ignore_bots",), raw["ignore_bots"]))
                                          if c.matching(p + ("ignore_bots", i), u, _MATRIX_USER,
                                                        "a Matrix user id, like @otherbot:example.org") is not MISSING)
        values["encryption"] = _encryption(c, p + ("encryption",), raw.get("encryption", True), base,
                                           data_dir or base, p[-1], environ)
        return values
    if "host" not in raw:
        c.error(p, "missing required key 'host'")
    elif not _userinfo(c, p + ("host",), raw["host"]):
        take("host", c.matching(p + ("host",), raw["host"], _HOST,
                                "a host name or address without scheme or port, like irc.libera.chat"))
    if "nick" not in raw:
        c.error(p, "missing required key 'nick'")
    else:
        take("nick", c.matching(p + ("nick",), raw["nick"], _IRC_NICK,
                                "an IRC nick (letters, digits and []\\`_^{|}-, not starting with a digit)"))
    if "tls" in raw:
        take("tls", c.boolean(p + ("tls",), raw["tls"]))
    if "port" in raw:
        take("port", c.integer(p + ("port",), raw["port"], lo=1, hi=65535))
    for key in ("username", "realname", "sasl_account"):
        if key in raw:
            take(key, c.string(p + (key,), raw[key], max_len=100))
    env("sasl_password_env")
    env("nickserv_password_env")
    if "sasl_account" in raw and "sasl_password_env" not in raw:
        c.error(p + ("sasl_account",), "SASL needs 'sasl_password_env' too: the environment variable with "
                                       "the account's password", key=True)
    if "services_server" in raw:
        take("services_server", c.matching(p + ("services_server",), raw["services_server"], _HOST,
                                           "the services server's name as WHOIS NickServ shows it, like "
                                           "services.libera.chat"))
    if "nickserv_password_env" in raw and "services_server" not in raw:
        c.error(p + ("nickserv_password_env",), "NickServ IDENTIFY sends the password to whoever holds the nick "
                "NickServ: set services_server (the services server's name as WHOIS NickServ shows it, like "
                "services.libera.chat) so it only goes to the real service, or log in with sasl_account and "
                "sasl_password_env instead (preferred)", key=True)
    if "flood_burst" in raw:
        take("flood_burst", c.integer(p + ("flood_burst",), raw["flood_burst"], lo=1, hi=1000))
    if "flood_rate" in raw:
        take("flood_rate", c.number(p + ("flood_rate",), raw["flood_rate"], lo=0.01, hi=1000))
    if "op_wait" in raw:
        take("op_wait", c.number(p + ("op_wait",), raw["op_wait"], lo=0, hi=600))
    if "tls_ca_file" in raw and c.string(p + ("tls_ca_file",), raw["tls_ca_file"]) is not MISSING:
        ca = base / raw["tls_ca_file"]
        if not ca.is_file():
            c.error(p + ("tls_ca_file",), f"no such file: {ca}")
        values["tls_ca_file"] = str(ca)
    for key in ("ignore_bots", "services"):  # other bots' nicks; the network's services nicks
        if key in raw:
            values[key] = tuple(n for i, n in enumerate(c.string_list(p + (key,), raw[key]))
                                if c.matching(p + (key, i), n, _IRC_NICK, "an IRC nick") is not MISSING)
    return values


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
    http: tuple[str, int] | None = None  # where /metrics, /healthz and /readyz are served, if at all


def load_config(path: str | Path, *, environ: Mapping[str, str] | None = None) -> Config:
    """Load and validate the config and every policy it names; raise ``ConfigErrors`` with every error.

    ``environ``: check that the environment variables the networks name are set in it (``gateway run``
    passes ``os.environ``; ``gateway check`` only warns, since it may run elsewhere)."""
    path = Path(path)
    doc = load_located(path)
    base = path.resolve().parent
    c = Checker(doc)
    top = c.mapping((), doc.value, required=("event_log", "networks", "rooms"),
                    optional=("policy_dir", "crisis_lines", "limits", "http"))
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
            c.error(p + ("type",) if isinstance(raw, dict) and "type" in raw else p,
                    f"expected type matrix or irc, got {kind!r}{did_you_mean(kind, NETWORK_KEYS)}")
            continue
        secrets_here = _inline_secrets(c, p, raw, NETWORK_KEYS[kind], name)
        settings = c.mapping(p, raw, required=("type",), optional=NETWORK_KEYS[kind] + secrets_here)
        if settings is None:
            continue
        known = {k: v for k, v in settings.items() if k in NETWORK_KEYS[kind]}
        data_dir = (base / event_log).parent if isinstance(event_log, str) else base
        networks[name] = NetworkConfig(name, kind, _network_settings(c, p, kind, known, base, environ,
                                                                          bool(secrets_here), data_dir))

    loader = PolicyLoader(dirs)
    policies: dict[str, Policy] = {}
    failed: set[str] = set()  # policies with errors: reported once, however many rooms use them
    rooms: list[RoomBinding] = []
    raw_rooms = top.get("rooms")
    if not isinstance(raw_rooms, list) or not raw_rooms:
        c.error(("rooms",), "expected a non-empty list of rooms")
        raw_rooms = []
    seen = set()
    mod_rooms: list[tuple] = []  # (key path, network, room, the room's entry, its policy)
    channel_keys: dict[tuple[str, str], str] = {}
    for i, raw in enumerate(raw_rooms):
        p = ("rooms", i)
        r = c.mapping(p, raw, required=("network", "room"),
                      optional=("policy", "region", "moderators_room", "moderators_network", "name", "key"))
        if r is None:
            continue
        net = r.get("network")
        if net not in networks:
            if "network" in r and net not in (top.get("networks") or {}):  # (a broken network: its own error)
                c.error(p + ("network",), f"no network named {net!r} under 'networks'"
                                          f"{did_you_mean(net, networks)}")
            continue
        room = c.matching(p + ("room",), r.get("room"), *ROOM_SHAPE[networks[net].type])
        if room is not MISSING:  # (a bad room still gets the rest of its entry checked)
            if (net, room) in seen:
                c.error(p + ("room",), "room listed twice")
            seen.add((net, room))
        pname = r.get("policy", "default")
        if not isinstance(pname, str) or not pname.strip():
            c.error(p + ("policy",), "expected a policy name or path")
            continue
        if pname in failed:
            continue
        if pname not in policies:
            resolved = loader.resolve(pname, base)
            if resolved is None:
                c.error(p + ("policy",), f"no policy named {pname!r} (looked in "
                                         f"{', '.join(str(d) for d in loader.search_dirs)})"
                                         f"{did_you_mean(pname, loader.names())}")
                failed.add(pname)
                continue
            try:
                policies[pname] = loader.load(str(resolved))
            except (ConfigError, ConfigErrors) as exc:
                c.errors.extend(exc.errors if isinstance(exc, ConfigErrors) else [exc])
                failed.add(pname)
                continue
        policy = policies[pname]
        region = r.get("region", policy.region)
        if not isinstance(region, str) or (region != INTERNATIONAL and region not in ISO_REGIONS):
            c.error(p + ("region",), f"unknown region code {region!r} (ISO 3166-1 alpha-2, or INTL)"
                                     f"{region_hint(region)}")
            continue
        mod_net = r.get("moderators_network", policy.moderators.network or net)
        if mod_net not in networks:
            _error_here_or_in_policy(c, p, r, "moderators_network", policy, "moderators.network",
                                     f"no network named {mod_net!r}{did_you_mean(mod_net, networks)}")
            continue
        mod_room = r.get("moderators_room", policy.moderators.room)
        if mod_room is None:
            c.error(p, "no moderators' room: set moderators.room in the policy or moderators_room here "
                       "(an at-risk person must never be handled without telling a human)")
            continue
        shape, what = ROOM_SHAPE[networks[mod_net].type]
        if not isinstance(mod_room, str) or not shape.fullmatch(mod_room):
            _error_here_or_in_policy(c, p, r, "moderators_room", policy, "moderators.room",
                                     f"the moderators' room must be {what}, got {mod_room!r}")
            continue
        mod_rooms.append((p, mod_net, mod_room, r, policy))
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
        if room is not MISSING:
            rooms.append(RoomBinding(net, room, policy, region, mod_net, mod_room,
                                     network_type=networks[net].type, name=name))
    for p, mod_net, mod_room, r, policy in mod_rooms:
        if (mod_net, mod_room) in seen:  # alerts name the person: the watched room must never see them
            _error_here_or_in_policy(c, p, r, "moderators_room", policy, "moderators.room",
                                     f"the moderators' room {mod_room!r} is a watched group room: alerts name "
                                     f"the person at risk, so they would be posted to everyone there. Use a "
                                     f"separate, private room for moderators")
    limits = _gateway_limits(c, top.get("limits", {}))
    http = _http_listen(c, top["http"]) if "http" in top else None
    c.raise_if_errors()
    return Config(path, base / event_log, dirs, networks, rooms, directory, policies, limits, channel_keys, http)


def _error_here_or_in_policy(c: Checker, p: tuple, entry: dict, key: str, policy: Policy, policy_key: str,
                             message: str) -> None:
    """A mistake in a value a room's entry may set (``key``) or inherit from its policy (``policy_key``): told at
    the line that set it, in the config or in the policy file, once however many rooms share the policy."""
    mark = policy.marks.get(policy_key)
    if key in entry or mark is None:
        c.error(p + (key,) if key in entry else p + ("policy",), message)
        return
    error = ConfigError(mark, tuple(policy_key.split(".")),
                        f"{message} (for the rooms of network {entry.get('network')} in {c.doc.file})")
    if str(error) not in {str(e) for e in c.errors}:
        c.errors.append(error)


DEFAULT_HTTP = ("127.0.0.1", 9464)
_LISTEN = re.compile(r"(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})")


def _http_listen(c: Checker, raw: Any) -> tuple[str, int] | None:
    """``http: true`` or ``http: {listen: HOST:PORT}``: where /metrics, /healthz and /readyz are served
    (loopback by default: put a reverse proxy or a firewall rule in front before opening it wider)."""
    p = ("http",)
    if raw is True:
        return DEFAULT_HTTP
    if raw is False or raw is None:
        return None
    m = c.mapping(p, raw, optional=("listen",))
    if m is None or "listen" not in m:
        return DEFAULT_HTTP
    if not isinstance(m["listen"], str):
        c.error(p + ("listen",), f"expected HOST:PORT, like 127.0.0.1:9464, got {m['listen']!r}")
        return None
    listen = c.matching(p + ("listen",), m["listen"], _LISTEN, "HOST:PORT, like 127.0.0.1:9464")
    if listen is MISSING:
        return None
    host, port = _LISTEN.fullmatch(listen).groups()
    if not 0 <= int(port) <= 65535:
        c.error(p + ("listen",), "the port must be between 0 and 65535")
        return None
    return host.strip("[]"), int(port)


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
