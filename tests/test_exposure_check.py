"""Issue 24, finding 7: what `gateway check` says offline about credentials and moderators' rooms (the
rooms' own state is checked by `gateway run` at start: tests/test_exposure_matrix.py, _irc.py)."""

from __future__ import annotations

from .conftest import CONFIG, GOOD
from .test_cli import CONFIG_WITH_DIR, run

IRC = """
  irc:
    type: irc
    host: irc.example.net
    nick: safety-bot
"""


def with_irc(extra: str = "", rooms: str = "") -> str:
    text = CONFIG_WITH_DIR.replace("rooms:\n", IRC + extra + "rooms:\n")
    return text.replace("    policy: peer\n", "    policy: peer\n" + rooms)


def test_a_nickserv_password_needs_the_services_server(write):
    write("policies/peer.yaml", GOOD)
    cfg = write("gateway.yaml", with_irc("    nickserv_password_env: GATEWAY_NS\n"))
    r = run("check", "--config", str(cfg))
    assert r.returncode == 2
    err = r.stderr.decode()
    assert f"{cfg}:" in err and "networks.irc.nickserv_password_env: NickServ IDENTIFY sends the password to " \
                                "whoever holds the nick NickServ: set services_server" in err
    assert "sasl_account" in err


def test_a_nickserv_password_with_its_services_server_is_accepted(write):
    write("policies/peer.yaml", GOOD)
    cfg = write("gateway.yaml", with_irc("    nickserv_password_env: GATEWAY_NS\n"
                                         "    services_server: services.example.net\n"))
    r = run("check", "--config", str(cfg))
    assert r.returncode == 0, r.stderr


def test_a_policy_that_allows_an_open_moderators_room_is_warned_about(write):
    policy = write("policies/peer.yaml", GOOD + "  allow_open_room: true\n")
    cfg = write("gateway.yaml", CONFIG_WITH_DIR)
    r = run("check", "--config", str(cfg))
    assert r.returncode == 0, r.stderr
    assert (f"warning: {policy}: moderators.allow_open_room: the moderators' room mx !mods:test may be a room "
            f"anyone can join") in r.stderr.decode()
    assert "whoever joins reads alerts that name people at risk" in r.stderr.decode()


def test_the_allow_keys_are_booleans_at_their_line(write):
    policy = write("policies/peer.yaml", GOOD + "  allow_open_room: sometimes\n")
    cfg = write("gateway.yaml", CONFIG_WITH_DIR)
    r = run("check", "--config", str(cfg))
    assert r.returncode == 2
    assert f"{policy}:6:20: moderators.allow_open_room: expected true or false" in r.stderr.decode()


def test_alerts_from_an_encrypting_matrix_network_to_irc_are_warned_about(write):
    write("policies/peer.yaml", GOOD)
    cfg = write("gateway.yaml", with_irc(rooms='    moderators_network: irc\n    moderators_room: "#mods"\n'))
    r = run("check", "--config", str(cfg))
    assert r.returncode == 0, r.stderr
    assert ("warning: mx !group:test: its alerts go to irc #mods, which is not end-to-end encrypted: gateway run "
            "refuses to start if !group:test is encrypted") in r.stderr.decode()


def test_the_plain_config_gets_no_exposure_warning(write):
    write("policies/peer.yaml", GOOD)
    r = run("check", "--config", str(write("gateway.yaml", CONFIG)))
    assert "moderators' room" not in r.stderr.decode()


def test_the_engine_tells_each_moderators_room_of_the_network_while_the_nick_is_taken(engine):
    """Finding 7 in the core: the moderators of the network's rooms hear that the bot runs under
    another nick (again every NICK_NOTICE_INTERVAL while it lasts), and once when it has it back."""
    from gateway.core import actions as A
    from gateway.core.events import BotNick

    from .conftest import MODS, NET

    t = 1_800_000_000.0
    taken = BotNick(NET, t, wanted="safety", current="safety_", reclaiming="services")
    alerts = [a for a in engine.handle(taken) if isinstance(a, A.AlertModerators)]
    assert [(a.network, a.room) for a in alerts] == [(NET, MODS)]
    assert "running as safety_" in alerts[0].text and "people who message safety reach someone else" in alerts[0].text
    assert "through NickServ" in alerts[0].text
    assert not [a for a in engine.handle(taken) if isinstance(a, A.AlertModerators)]  # not on every retry
    later = BotNick(NET, t + engine.NICK_NOTICE_INTERVAL, wanted="safety", current="safety_")
    assert [a for a in engine.handle(later) if isinstance(a, A.AlertModerators)]  # still taken: again
    back = [a for a in engine.handle(BotNick(NET, t + 4000, wanted="safety", current="safety"))
            if isinstance(a, A.AlertModerators)]
    assert len(back) == 1 and "back" in back[0].text
    assert not engine.handle(BotNick(NET, t + 4001, wanted="safety", current="safety"))
