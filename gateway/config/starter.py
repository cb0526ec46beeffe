"""``gateway init``: a commented starter ``gateway.yaml`` and a room policy that extends the default.

Why: a first real set-up is where volunteers trip (a homeserver without ``https://``, a channel without
``#``, a moderators' room missing). Writing the files from a few answers, then running the same check
as ``gateway check``, gets them to a config that loads, with every key they may want next shown in a
comment beside it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from .config_file import ROOM_SHAPE
from ..policy.crisis_lines import INTERNATIONAL, ISO_REGIONS, region_hint

__all__ = ["Starter", "network_of", "write_starter", "data_dir_setting", "next_steps", "SERVICE_CONFIG",
           "SERVICE_DATA"]

# Where contrib/safeguarding-gateway.service reads the config and the only place it may write (its
# StateDirectory): a config written there is meant for that unit (a test holds these to the unit file).
SERVICE_CONFIG = Path("/etc/safeguarding-gateway/gateway.yaml")
SERVICE_DATA = Path("/var/lib/safeguarding-gateway")
SERVICE_SECRETS = SERVICE_CONFIG.parent / "secrets.env"


def network_of(room: str) -> str | None:
    """``!id:server`` / ``#alias:server`` are Matrix rooms, ``#name`` / ``&name`` IRC channels."""
    for kind, (shape, _) in ROOM_SHAPE.items():
        if shape.fullmatch(room) and (kind == "matrix") == (":" in room or room.startswith("!")):
            return kind
    return None


@dataclass
class Starter:
    """What ``gateway init`` was told; ``problems()`` says what is missing before anything is written."""

    rooms: list[str]
    moderators_rooms: list[str]
    region: str = "INTL"
    policy_name: str = "room"
    matrix_homeserver: str | None = None
    matrix_user: str | None = None
    irc_host: str | None = None
    irc_port: int | None = None
    irc_tls: bool = True
    irc_nick: str | None = None
    irc_account: str | None = None
    data_dir: str = "data"  # as written into gateway.yaml: relative to it, or absolute
    kinds: dict[str, str] = field(default_factory=dict)  # room -> matrix or irc

    def problems(self) -> list[str]:
        out = []
        for room in self.rooms + self.moderators_rooms:
            kind = network_of(room)
            if kind is None:
                out.append(f"{room!r} is neither a Matrix room (!id, !id:server or #alias:server) nor an IRC "
                           f"channel (#name)")
            else:
                self.kinds[room] = kind
        if not self.rooms:
            out.append("name at least one room to watch (--room)")
        if not self.moderators_rooms:
            out.append("name the moderators' room where alerts go (--moderators-room): a person at risk is "
                       "never handled without telling a human")
        used = set(self.kinds.values())
        if "matrix" in used and not (self.matrix_homeserver and self.matrix_user):
            out.append("Matrix rooms need --matrix-homeserver URL and --matrix-user @bot:server")
        if "irc" in used and not (self.irc_host and self.irc_nick):
            out.append("IRC channels need --irc-host HOST and --irc-nick NICK")
        if self.region not in ISO_REGIONS and self.region != INTERNATIONAL:
            out.append(f"--region {self.region}: not a country code (ISO 3166-1 alpha-2 such as GB, or INTL)"
                       f"{region_hint(self.region)}")
        watched = set(self.rooms) & set(self.moderators_rooms)
        if watched:
            out.append(f"{', '.join(sorted(watched))}: a moderators' room must not be a watched room (alerts "
                       f"name the person)")
        return out

    def moderators_for(self, kind: str) -> str:
        same = [m for m in self.moderators_rooms if self.kinds.get(m) == kind]
        return (same or self.moderators_rooms)[0]


def _config_text(s: Starter) -> str:
    lines = ["# gateway.yaml, written by `gateway init`. Paths are relative to this file. Secrets never live",
             "# here: each network names the environment variable that holds its password.",
             "# Everything the gateway writes goes in one directory: the event log (SQLite), the pseudonym",
             "# key beside it, and per Matrix network the crypto store with the bot's saved login.",
             f"event_log: {_yaml_path(str(Path(s.data_dir) / 'gateway.db'))}",
             "policy_dir: policies                # your room policies (the shipped ones are found too)",
             "# http:                             # /metrics, /healthz, /readyz for Prometheus and monitoring",
             "#   listen: 127.0.0.1:9464",
             "networks:"]
    kinds = {s.kinds[r] for r in s.rooms + s.moderators_rooms}
    if "matrix" in kinds:
        lines += ["  matrix:",
                  "    type: matrix",
                  f"    homeserver: {s.matrix_homeserver}",
                  f"    user_id: \"{s.matrix_user}\"",
                  "    password_env: GATEWAY_MATRIX_PASSWORD     # or access_token_env",
                  "    # ignore_bots: [\"@bridge-bot:example.org\"]  # other bots: never read, never answered",
                  "    # encryption:                      # on: encrypted rooms are read and answered encrypted",
                  "    #   pickle_key_env: GATEWAY_MATRIX_PICKLE_KEY  # default: a key file beside the crypto store"]
    if "irc" in kinds:
        port = s.irc_port or (6697 if s.irc_tls else 6667)
        lines += ["  irc:",
                  "    type: irc",
                  f"    host: {s.irc_host}",
                  f"    port: {port}",
                  f"    tls: {'true' if s.irc_tls else 'false'}",
                  f"    nick: {s.irc_nick}"]
        if s.irc_account:
            lines += [f"    sasl_account: {s.irc_account}",
                      "    sasl_password_env: GATEWAY_IRC_PASSWORD"]
        else:
            lines += ["    # sasl_account: safety-bot          # log in to services (recommended)",
                      "    # sasl_password_env: GATEWAY_IRC_PASSWORD"]
        lines += ["    # flood_burst: 4                    # outgoing lines at once, then...",
                  "    # flood_rate: 1.0                   # ...lines per second"]
    lines += ["rooms:"]
    one_mod = len({s.moderators_for(s.kinds[r]) for r in s.rooms}) == 1
    for room in s.rooms:
        kind = s.kinds[room]
        mods = s.moderators_for(kind)
        lines += [f"  - network: {kind}",
                  f"    room: \"{room}\"",
                  f"    policy: {s.policy_name}",
                  "    # name: \"Peer support\"             # how messages name the room to people"]
        if not one_mod:
            lines += [f"    moderators_room: \"{mods}\""]
        if s.kinds[mods] != kind:
            lines += [f"    moderators_network: {s.kinds[mods]}"]
    return "\n".join(lines) + "\n"


def _yaml_path(path: str) -> str:
    """A path as a YAML value: bare when plain, else double-quoted (a JSON string is valid YAML)."""
    return path if re.fullmatch(r"[A-Za-z0-9_./-]+", path) else json.dumps(path)


def data_dir_setting(config_dir: Path, data_dir: str | None) -> str:
    """``--data-dir`` as gateway.yaml must say it: the config's paths are relative to the config, so a
    directory inside the config's is written relative to it, any other absolute."""
    if data_dir is None:
        return "data"
    wanted, base = Path(data_dir).resolve(), config_dir.resolve()
    try:
        return str(wanted.relative_to(base))
    except ValueError:
        return str(wanted)


def secret_envs(s: Starter) -> list[str]:
    """The environment variables the written config names, in its order."""
    return ["GATEWAY_MATRIX_PASSWORD"] * ("matrix" in s.kinds.values()) + ["GATEWAY_IRC_PASSWORD"] * bool(s.irc_account)


def next_steps(s: Starter, config: Path) -> tuple[list[str], list[str]]:
    """(what to do next, warnings), as the docs show it: in a shell (docs/configuration.md), or for a
    config written where the systemd unit reads it, the unit's set-up (docs/production.md)."""
    envs = secret_envs(s)
    if config.resolve() != SERVICE_CONFIG:
        return (["next:"] + ([f"  export {' '.join(e + '=...' for e in envs)}"] if envs else [])
                + [f"  gateway run --config {config}"]), []
    steps = ["next, for the systemd unit (docs/production.md):"]
    if envs:
        steps += [f"  install -m 0600 /dev/null {SERVICE_SECRETS}  # then in it, one a line: "
                  + " ".join(e + "=..." for e in envs)]
    steps += ["  cp contrib/safeguarding-gateway.service /etc/systemd/system/",
              "  systemctl daemon-reload && systemctl enable --now safeguarding-gateway"]
    data = Path(s.data_dir) if Path(s.data_dir).is_absolute() else config.parent / s.data_dir
    warnings = [] if data.resolve() == SERVICE_DATA else [
        f"the unit may write only in {SERVICE_DATA}, not {data}: run this again with --data-dir "
        f"{SERVICE_DATA} --force"]
    return steps, warnings


def _policy_text(s: Starter) -> str:
    mods = {s.moderators_for(s.kinds[r]) for r in s.rooms}
    room_line = (f"  room: \"{next(iter(mods))}\"          # where alerts go" if len(mods) == 1 else
                 "  room: null                 # set per room in gateway.yaml (moderators_room)")
    return "\n".join([
        f"# policies/{s.policy_name}.yaml, written by `gateway init`. It extends the shipped default: lists you",
        "# write here ADD to the default's (phrases, exceptions); {remove: [...]} or {replace: [...]} shrink",
        "# them, and `gateway check --config gateway.yaml` warns about anything that weakens detection. See",
        "# docs/policy-format.md for every key.",
        "extends: default",
        f"name: {s.policy_name}",
        f"region: {s.region}                 # ISO 3166-1 code for the crisis lines, or INTL",
        "mode: act                  # or observe: detect and alert \"would have acted\", act on nobody",
        "moderators:",
        room_line,
        "  # power_level: 50          # Matrix: moderators are at or above this power level",
        "  # accounts: [alice, bob]   # IRC services accounts; channel operators always count",
        "# guidelines:",
        "#   text: |",
        "#     Welcome. This room is peer support, not a crisis service. ...",
        "# tiers:",
        "#   high:",
        "#     rules:",
        "#       my_room_words:",
        "#         phrases: [\"a phrase your community uses\"]",
    ]) + "\n"


def write_starter(s: Starter, directory: Path, *, force: bool = False) -> list[Path]:
    """Write ``gateway.yaml`` and ``policies/NAME.yaml`` under ``directory``; refuse to overwrite."""
    config = directory / "gateway.yaml"
    policy = directory / "policies" / f"{s.policy_name}.yaml"
    existing = [p for p in (config, policy) if p.exists()]
    if existing and not force:
        raise FileExistsError(f"{existing[0]} exists (use --force to overwrite it)")
    policy.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(_config_text(s), encoding="utf-8")
    policy.write_text(_policy_text(s), encoding="utf-8")
    return [config, policy]
