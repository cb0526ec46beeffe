"""Encryption pieces that need no server: the config, the core's answer to unreadable messages, what the
adapter hands the core for ciphertext, and the files that hold the device and the keys."""

from __future__ import annotations

import os
import stat
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest
from nio import EncryptionError, MegolmEvent, RoomMessageText

from adapters.matrix import MatrixAdapter
from adapters.matrix.crypto import Crypto, CryptoSettings, Session, crypto_settings, pickle_key_from_file, saved_device
from gateway.core import actions as A
from gateway.config.config_file import load_config
from gateway.core.events import Tick, Undecryptable
from gateway.yamlfiles.located import ConfigErrors

from .conftest import CONFIG, GOOD, MODS, NET, ROOM
from .test_cli import run


def config_with(write, encryption: str = "") -> Path:
    write("policies/peer.yaml", GOOD)
    text = CONFIG.replace("    password_env: GATEWAY_MX_PASSWORD\n",
                          "    password_env: GATEWAY_MX_PASSWORD\n" + textwrap.indent(textwrap.dedent(encryption), "    "))
    return write("gateway.yaml", "policy_dir: policies\n" + text.lstrip("\n"))


def test_encryption_is_on_by_default_with_its_store_beside_the_event_log(write, tmp_path):
    cfg = load_config(config_with(write))
    e = cfg.networks["mx"].settings["encryption"]
    assert e["enabled"] and e["trust"] == "all-devices"
    assert e["store"] == tmp_path / "crypto" / "mx"
    assert e["pickle_key_file"] == tmp_path / "crypto" / "mx.key"


def test_encryption_settings_are_checked_at_their_line(write, tmp_path):
    cfg = load_config(config_with(write, """\
        encryption:
          store: secrets/mx-store
          pickle_key_env: GATEWAY_PICKLE
          trust: verified-only
        """))
    e = cfg.networks["mx"].settings["encryption"]
    assert e["store"] == tmp_path / "secrets" / "mx-store" and e["trust"] == "verified-only"
    assert e["pickle_key_env"] == "GATEWAY_PICKLE" and "pickle_key_file" not in e
    assert load_config(config_with(write, "encryption: false\n")).networks["mx"].settings["encryption"]["enabled"] is False

    path = config_with(write, """\
        encryption:
          trust: everyone
          pickle_key: hunter2
        """)
    with pytest.raises(ConfigErrors) as err:
        load_config(path)
    text = "\n".join(str(e) for e in err.value.errors)
    assert "gateway.yaml:10" in text and "trust" in text and "all-devices, verified-only" in text
    assert "pickle_key" in text


def test_run_needs_the_pickle_key_variable_when_one_is_named(write):
    path = config_with(write, "encryption: {pickle_key_env: GATEWAY_PICKLE}\n")
    with pytest.raises(ConfigErrors) as err:
        load_config(path, environ={"GATEWAY_MX_PASSWORD": "x"})
    assert "GATEWAY_PICKLE is not set" in str(err.value.errors[0])
    load_config(path, environ={"GATEWAY_MX_PASSWORD": "x", "GATEWAY_PICKLE": "k"})


def test_check_and_status_say_where_the_store_and_key_are(write, tmp_path):
    path = config_with(write)
    env = {**os.environ, "GATEWAY_MX_PASSWORD": "x"}
    out = run("check", "--config", str(path), text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert f"crypto store {tmp_path / 'crypto' / 'mx'}" in out.stdout
    assert f"pickle key in {tmp_path / 'crypto' / 'mx.key'} (created at first start, 0600)" in out.stdout
    out = run("status", "--config", str(path), text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert "device (none yet" in out.stdout and "not created yet" in out.stdout


def test_the_pickle_key_file_is_created_once_and_private(tmp_path):
    key_file = tmp_path / "crypto" / "mx.key"
    key = pickle_key_from_file(key_file)
    assert len(key) >= 40 and stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert pickle_key_from_file(key_file) == key
    net = SimpleNamespace(name="mx", settings={"encryption": {"enabled": True, "store": tmp_path / "s",
                                                               "pickle_key_env": "GATEWAY_TEST_NO_SUCH_VAR"}})
    with pytest.raises(RuntimeError, match="GATEWAY_TEST_NO_SUCH_VAR"):
        crypto_settings(net)
    assert crypto_settings(SimpleNamespace(name="mx", settings={"encryption": {"enabled": False}})) is None


def test_the_device_is_restored_only_with_its_store(tmp_path):
    crypto = Crypto(CryptoSettings(tmp_path / "store", "k"), "mx")
    assert stat.S_IMODE((tmp_path / "store").stat().st_mode) == 0o700
    crypto.save_session(Session("@bot:test", "DEV1", "tok"))
    assert stat.S_IMODE(crypto.session_file.stat().st_mode) == 0o600
    assert saved_device(tmp_path / "store") == "DEV1"
    assert crypto.saved_session("@bot:test") is None  # its keys are gone: a new device, not a broken one
    (tmp_path / "store" / "@bot:test_DEV1.db").write_bytes(b"")
    assert crypto.saved_session("@bot:test") == Session("@bot:test", "DEV1", "tok")
    assert crypto.saved_session("@other:test") is None
    assert "tok" not in repr(crypto.saved_session("@bot:test"))


class _Store(dict):
    def set(self, key, value):
        self[key] = value


def adapter(crypto_dir: Path | None = None) -> MatrixAdapter:
    settings = CryptoSettings(crypto_dir, "k") if crypto_dir else None
    a = MatrixAdapter(NET, "http://127.0.0.1:1", "@bot:test", store=_Store(), rooms=[ROOM], password="p",
                      crypto=settings, clock=lambda: 1.0)
    a.names[ROOM] = ROOM
    return a


MEGOLM = {"type": "m.room.encrypted", "sender": "@kit:test", "event_id": "$e", "origin_server_ts": 1,
          "content": {"algorithm": "m.megolm.v1.aes-sha2", "ciphertext": "AwgA", "sender_key": "abc",
                      "session_id": "s1", "device_id": "KIT"}}


@pytest.mark.parametrize("encrypted", [True, False])
def test_ciphertext_becomes_undecryptable_never_silence(tmp_path, encrypted):
    a = adapter(tmp_path / "store" if encrypted else None)
    ev = MegolmEvent.from_dict(MEGOLM)
    out = a._translate(ROOM, ROOM, ev)
    assert out == Undecryptable(NET, 1.0, room=ROOM)
    assert a._translate("!dm:test", None, ev) == Undecryptable(NET, 1.0, room=None)


def test_a_forged_state_event_inside_ciphertext_is_ignored(tmp_path):
    a = adapter(tmp_path / "store")
    forged = RoomMessageText.from_dict({"type": "m.room.message", "sender": "@kit:test", "event_id": "$f",
                                        "origin_server_ts": 1, "content": {"msgtype": "m.text", "body": "hi"}})
    forged.decrypted = True
    assert a._translate(ROOM, ROOM, forged).text == "hi"  # a decrypted message goes through
    forged.source = {**forged.source, "type": "m.room.member", "state_key": "@ana:test",
                     "content": {"membership": "leave"}}
    assert a._translate(ROOM, ROOM, forged) is None  # a "leave" for someone else, in ciphertext: no


def test_pending_messages_wait_for_their_key_then_expire(tmp_path):
    crypto = Crypto(CryptoSettings(tmp_path / "store", "k"), "mx")
    ev = MegolmEvent.from_dict(MEGOLM)
    crypto.wait_for_key(ROOM, ev, now=0.0)
    assert crypto.waiting() == 1
    class NoKey:
        def decrypt_event(self, event):
            raise EncryptionError("no session")

    assert crypto.decrypted_now(NoKey(), now=10.0) == [] and crypto.waiting() == 1
    decrypted = object()
    assert crypto.decrypted_now(SimpleNamespace(decrypt_event=lambda e: decrypted), now=20.0) == [(ROOM, decrypted)]
    assert crypto.waiting() == 0
    crypto.wait_for_key(ROOM, ev, now=0.0)
    assert crypto.decrypted_now(NoKey(), now=3601.0) == [] and crypto.waiting() == 0


def test_unreadable_messages_are_recorded_and_reported_once_a_day(engine):
    t = 1_800_000_000.0
    first = engine.handle(Undecryptable(NET, t, room=ROOM))
    assert [type(a) for a in first] == [A.RecordEvent, A.AlertModerators]
    assert first[0].kind == "undecryptable" and first[0].room == ROOM
    alert = first[1]
    assert alert.room == MODS and "could not read an encrypted message" in alert.text
    assert "asked for the key" in alert.text
    again = engine.handle(Undecryptable(NET, t + 3600, room=ROOM))
    assert [type(a) for a in again] == [A.RecordEvent]  # counted, not announced again the same day
    engine.handle(Tick(NET, t + 7200))  # pruning old timers keeps this one for its day
    assert [type(a) for a in engine.handle(Undecryptable(NET, t + 7300, room=ROOM))] == [A.RecordEvent]
    later = engine.handle(Undecryptable(NET, t + 86_401, room=ROOM))
    assert [type(a) for a in later] == [A.RecordEvent, A.AlertModerators]
    direct = engine.handle(Undecryptable(NET, t, room=None))
    assert [type(a) for a in direct] == [A.RecordEvent]  # a direct room: counted


def test_newcomers_to_an_encrypted_room_get_the_guidelines_they_cannot_decrypt_in_the_pin(engine):
    from gateway.core.events import Join

    t = 1_800_000_000.0
    assert engine.handle(Join(NET, t, room=ROOM, user="@old:test")) == []  # history readable: the pin does
    first = engine.handle(Join(NET, t, room=ROOM, user="@new:test", history_hidden=True))
    post = [a for a in first if isinstance(a, A.PostNotice)]
    assert len(post) == 1 and post[0].room == ROOM and post[0].text.startswith("Welcome. This room is peer support")
    assert [a.kind for a in first if isinstance(a, A.RecordEvent)] == ["guidelines_for_newcomers"]
    # a flood of joins (sock puppets) gets no post each: the next comes after the interval, on a tick
    for i in range(50):
        assert engine.handle(Join(NET, t + 1 + i, room=ROOM, user=f"@puppet{i}:test", history_hidden=True)) == []
    assert not [a for a in engine.handle(Tick(NET, t + 200)) if isinstance(a, A.PostNotice)]
    again = [a for a in engine.handle(Tick(NET, t + 301)) if isinstance(a, A.PostNotice)]
    assert len(again) == 1 and again[0].text == post[0].text
    assert not [a for a in engine.handle(Tick(NET, t + 700)) if isinstance(a, A.PostNotice)]  # nobody waiting


def test_verified_devices_are_checked_and_need_verified_only(write):
    key = "A" * 43
    cfg = load_config(config_with(write, f"""\
        encryption:
          trust: verified-only
          verified_devices: ["@mod:test MODDEVICE {key}"]
        """))
    assert cfg.networks["mx"].settings["encryption"]["verified_devices"] == (("@mod:test", "MODDEVICE", key),)
    for bad, says in ((f'trust: all-devices\\n  verified_devices: ["@mod:test D {key}"]', "needs trust: verified-only"),
                      ('trust: verified-only\\n  verified_devices: ["@mod:test"]', "DEVICEID fingerprint")):
        with pytest.raises(ConfigErrors) as err:
            load_config(config_with(write, "encryption:\n  " + bad.replace("\\n", "\n") + "\n"))
        assert says in "\n".join(str(e) for e in err.value.errors)


async def test_a_message_whose_key_arrives_later_goes_through_the_flow_then(tmp_path):
    """The adapter keeps an undecryptable message (ciphertext, in memory) and hands it to the core as
    soon as a later sync brought its key: late, but not lost."""
    a = adapter(tmp_path / "store")
    handed: list = []

    class Sink:
        async def handle(self, event):
            handed.append(event)

        async def handle_many(self, events):
            handed.extend(events)

    def keyless(event):
        raise EncryptionError("no session")

    requests = []

    async def request_room_key(event):
        requests.append(event.session_id)

    a.client = SimpleNamespace(decrypt_event=keyless, request_room_key=request_room_key, rooms={})
    empty = SimpleNamespace(rooms=SimpleNamespace(invite={}, join={}))
    arrived = SimpleNamespace(rooms=SimpleNamespace(invite={}, join={
        ROOM: SimpleNamespace(timeline=SimpleNamespace(events=[MegolmEvent.from_dict(MEGOLM)]))}))
    a._is_direct_room = lambda room_id: False
    a.power_level = lambda room_id, user: 0
    await a._handle(arrived, Sink())
    assert handed == [Undecryptable(NET, 1.0, room=ROOM)] and requests == ["s1"]
    await a._handle(empty, Sink())
    assert len(handed) == 1  # still no key
    decrypted = RoomMessageText.from_dict({"type": "m.room.message", "sender": "@kit:test", "event_id": "$e",
                                           "origin_server_ts": 1, "content": {"msgtype": "m.text",
                                                                              "body": "i took all my pills"}})
    decrypted.decrypted = True
    a.client.decrypt_event = lambda e: decrypted
    await a._handle(empty, Sink())
    assert handed[-1].text == "i took all my pills" and handed[-1].sender == "@kit:test"
    assert a.crypto.waiting() == 0


class _Answer:
    def __init__(self, status: int, body: dict):
        self.status, self.body = status, body

    async def json(self, content_type=None):
        return self.body

    def release(self):
        pass


@pytest.mark.parametrize("login, outcome", [
    ((200, {"access_token": "tmp-token", "device_id": "TMP"}), "checked"),
    ((403, {"errcode": "M_FORBIDDEN"}), "refused"),
    ((429, {"errcode": "M_LIMIT_EXCEEDED"}), "skipped"),
])
async def test_the_password_check_logs_its_own_device_out_and_never_waits_on_a_rate_limit(tmp_path, caplog, login,
                                                                                           outcome):
    """Issue 26, item 7: the check at start is a login of its own, logged out at once (the bot's device and
    token untouched); a refusal stops the gateway; a rate limit is no reason to delay protection."""
    from adapters.contract import CredentialsRefused

    a = adapter(tmp_path / "store")
    a.secret_hint = "the password in $GATEWAY_MX_PASSWORD"
    sent = []

    async def send(method, path, data=None, headers=None):
        sent.append((path, headers.get("Authorization")))
        return _Answer(*login) if path.endswith("/login") else _Answer(200, {})

    a.client.send = send
    if outcome == "refused":
        with pytest.raises(CredentialsRefused) as info:
            await a._check_password()
        assert str(info.value) == ("network test: http://127.0.0.1:1 refused the login of @bot:test (M_FORBIDDEN): "
                                   "check the password in $GATEWAY_MX_PASSWORD and user_id")
    else:
        await a._check_password()
    assert sent == [("/_matrix/client/v3/login", None)] + (
        [("/_matrix/client/v3/logout", "Bearer tmp-token")] if outcome == "checked" else [])
    assert ("the password could not be checked now (M_LIMIT_EXCEEDED)" in caplog.text) == (outcome == "skipped")
