"""One place that writes the gateway's files for tests (in the spirit of Sopel's tests/factories.py):
a room policy extending the default, network entries and room entries of ``gateway.yaml``.

Why: the same YAML written out by hand in several test files drifts apart, and a config change (a new
required key, a validated shape) then breaks tests one by one instead of here once.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

__all__ = ["policy_yaml", "matrix_network", "irc_network", "room_entry", "gateway_yaml", "write_gateway"]


def policy_yaml(moderators_room: str, *, name: str = "peer", region: str = "GB", accounts: tuple[str, ...] = (),
                extra: str = "") -> str:
    """A room policy that extends the shipped default; ``extra`` is more YAML at the top level."""
    listed = f"  accounts: [{', '.join(f'{a!r}' for a in accounts)}]\n" if accounts else ""
    return textwrap.dedent(f"""\
        extends: default
        name: {name}
        region: {region}
        moderators:
          room: "{moderators_room}"
        """) + listed + textwrap.dedent(extra)


def matrix_network(url: str, user_id: str, secret_env: str, *, name: str = "mx", token: bool = False,
                   extra: str = "") -> str:
    key = "access_token_env" if token else "password_env"
    return textwrap.dedent(f"""\
        {name}:
          type: matrix
          homeserver: {url}
          user_id: "{user_id}"
          {key}: {secret_env}
        """) + "".join("  " + line + "\n" for line in textwrap.dedent(extra).splitlines() if line.strip())


def irc_network(port: int, nick: str, *, name: str = "irc", tls: bool = False, ca_file: str | None = None,
                flood: tuple[float, float] = (100, 100), op_wait: float | None = None, extra: str = "") -> str:
    lines = [f"{name}:", "  type: irc", "  host: 127.0.0.1", f"  port: {port}", f"  nick: {nick}",
             f"  flood_burst: {flood[0]:g}", f"  flood_rate: {flood[1]:g}"]
    if tls:
        lines.append("  tls: true")
    if ca_file:
        lines.append(f"  tls_ca_file: {ca_file}")
    if op_wait is not None:
        lines.append(f"  op_wait: {op_wait:g}")
    lines += ["  " + line for line in textwrap.dedent(extra).splitlines() if line.strip()]
    return "\n".join(lines) + "\n"


def room_entry(network: str, room: str, *, policy: str = "peer", extra: str = "") -> str:
    lines = [f"- network: {network}", f'  room: "{room}"', f"  policy: {policy}"]
    lines += ["  " + line for line in textwrap.dedent(extra).splitlines() if line.strip()]
    return "\n".join(lines) + "\n"


def gateway_yaml(networks: list[str], rooms: list[str], *, event_log: str = "data/gateway.db") -> str:
    return (f"event_log: {event_log}\npolicy_dir: policies\nnetworks:\n"
            + "".join(textwrap.indent(n, "  ") for n in networks)
            + "rooms:\n" + "".join(textwrap.indent(r, "  ") for r in rooms))


def write_gateway(directory: Path, *, policy: str, networks: list[str], rooms: list[str],
                  config_name: str = "gateway.yaml") -> Path:
    """Write ``policies/peer.yaml`` (or the policy's own name) and the config; return the config's path."""
    name = next(line.split(":", 1)[1].strip() for line in policy.splitlines() if line.startswith("name:"))
    (directory / "policies").mkdir(parents=True, exist_ok=True)
    (directory / "policies" / f"{name}.yaml").write_text(policy)
    path = directory / config_name
    path.write_text(gateway_yaml(networks, rooms))
    return path
