"""Policy and config validation: every error names file, line, column and key; bad files are refused whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config.config_file import load_config
from gateway.detection import detector_for
from gateway.policy.loader import PolicyLoader
from gateway.yamlfiles.located import ConfigError, ConfigErrors

from .conftest import CONFIG, GOOD


def errors_of(loader_call) -> list[str]:
    with pytest.raises((ConfigError, ConfigErrors)) as info:
        loader_call()
    exc = info.value
    return [str(e) for e in (exc.errors if isinstance(exc, ConfigErrors) else [exc])]


def load(path):
    return PolicyLoader([path.parent]).load(str(path))


def test_good_policy_extends_default_and_overrides_only_what_it_names(write):
    p = load(write("peer.yaml", GOOD))
    assert (p.name, p.region, p.moderators.room) == ("peer", "GB", "!mods:test")
    assert p.moderators.power_level == 50  # inherited
    assert set(p.tiers) == {"concern", "high", "imminent"}
    assert detector_for(p).detect("i took all my pills").tier == "imminent"


def test_extending_policy_can_add_a_rule_and_remove_one(write):
    path = write("peer.yaml", GOOD + """
tiers:
  high:
    rules:
      kms: null
      mine:
        phrases: ["purple elephant phrase"]
""")
    p = load(path)
    rules = {r.id for r in p.tiers["high"].rules}
    assert "high.mine" in rules and "high.active_thoughts" in rules and "high.kms" not in rules
    assert detector_for(p).detect("a Purple Elephant phrase!").rules == ("high.mine",)


def test_unknown_key_is_reported_at_the_key_with_a_hint(write):
    path = write("p.yaml", GOOD + "moderatos:\n  room: x\n")
    assert errors_of(lambda: load(path)) == [
        f"{path}:6:1: moderatos: unknown key (did you mean 'moderators'?)"]


def test_wrong_type_is_reported_at_the_value(write):
    path = write("p.yaml", GOOD + """
tiers:
  imminent:
    action:
      remove: "yes"
""")
    assert errors_of(lambda: load(path)) == [
        f"{path}:10:15: tiers.imminent.action.remove: expected true or false, got string"]


def test_bad_regex_and_backtracking_constructs_are_refused(write):
    path = write("p.yaml", GOOD + r"""
tiers:
  high:
    rules:
      x:
        regexes: ['(a+', '(\w+)\1', 'ok']
""")
    errs = errors_of(lambda: load(path))
    assert len(errs) == 2
    assert errs[0].startswith(f"{path}:11:19: tiers.high.rules.x.regexes[0]: bad regex")
    assert errs[1].startswith(f"{path}:11:26: tiers.high.rules.x.regexes[1]: bad regex")


def test_regex_matching_every_message_is_refused(write):
    path = write("p.yaml", GOOD + """
tiers:
  high:
    rules:
      x:
        phrases: ["fine phrase"]
        regexes: ['a*']
""")
    assert errors_of(lambda: load(path)) == [
        f"{path}:12:19: tiers.high.rules.x.regexes[0]: regex matches an empty message, so it would "
        "fire on everything"]


def test_missing_template_is_reported_at_the_tier_action(write):
    path = write("p.yaml", GOOD + """
tiers:
  high:
    action:
      message: no_such_template
""")
    assert errors_of(lambda: load(path)) == [
        f"{path}:10:16: tiers.high.action.message: no template named 'no_such_template'"]


def test_template_with_unknown_placeholder(write):
    path = write("p.yaml", GOOD + """
templates:
  crisis_dm: "Hello {name}"
""")
    errs = errors_of(lambda: load(path))
    assert len(errs) == 1 and errs[0].startswith(f"{path}:8:14: templates.crisis_dm: unknown placeholder {{name}}")


def test_unknown_region_code(write):
    path = write("p.yaml", GOOD.replace("region: GB", "region: UK"))
    assert errors_of(lambda: load(path)) == [
        f"{path}:3:9: region: unknown region code 'UK' (ISO 3166-1 alpha-2 such as GB, or INTL) "
            "(did you mean 'GB'?)"]


@pytest.mark.parametrize("name, expected", [
    ("Germany", "DE"), ("germany", "DE"), ("Deutschland", "DE"), ("United Kingdom", "GB"), ("UK", "GB"),
    ("España", "ES"), ("espana", "ES"), ("Österreich", "AT"), ("the Netherlands", "NL"), ("Suisse", "CH"),
    ("Germnay", "DE")])
def test_a_country_written_as_a_name_suggests_its_code(write, name, expected):
    path = write("p.yaml", GOOD.replace("region: GB", f"region: {name}"))
    assert errors_of(lambda: load(path)) == [
        f"{path}:3:9: region: unknown region code {name!r} (ISO 3166-1 alpha-2 such as GB, or INTL) "
        f"(did you mean '{expected}'?)"]


def test_a_crisis_directory_region_written_as_a_name_suggests_its_code(write):
    from gateway.policy.crisis_lines import load_directory

    path = write("lines.yaml", 'version: 1\ninternational: {text: x, emergency: "112"}\nregions:\n  Deutschland:\n'
                               '    name: Germany\n    emergency: "112"\n    lines: []\n')
    assert errors_of(lambda: load_directory(path)) == [
        f"{path}:4:3: regions.Deutschland: unknown region code 'Deutschland' (use ISO 3166-1 alpha-2, e.g. GB) "
        f"(did you mean 'DE'?)"]


def test_a_region_that_is_no_country_gets_no_guess(write):
    path = write("p.yaml", GOOD.replace("region: GB", "region: Narnia"))
    assert errors_of(lambda: load(path)) == [
        f"{path}:3:9: region: unknown region code 'Narnia' (ISO 3166-1 alpha-2 such as GB, or INTL)"]


# -- YAML mistakes: what usually causes them, at their line -------------------------------------------

@pytest.mark.parametrize("text, expected", [
    # a key indented one space too far
    ('name: peer\nmoderators:\n  room: "!mods:test"\n   power_level: 50\n',
     "4:4: (document): YAML syntax: did not find expected key: check the indentation of line 4 against line 3"),
    # a key one space short (of its sibling, or one space too far from its parent's: both lines are named)
    ('name: peer\nmoderators:\n  room: "!mods:test"\n power_level: 50\n',
     "4:2: (document): YAML syntax: did not find expected key: check the indentation of line 4 against lines 3 "
     "and 2"),
    # a line of a block of text indented less than the lines before it
    ('name: peer\nguidelines:\n  text: |\n    Be kind.\n    No shaming.\n   Ask for help.\n  pin: true\n',
     "6:4: (document): YAML syntax: did not find expected key: check the indentation of line 6 against line 5"),
    # a list item under the wrong key (under room:, not accounts:)
    ('name: peer\nmoderators:\n  room: "!mods:test"\n  - alice\n',
     "4:3: (document): YAML syntax: did not find expected key: line 4 is a list item where a key was expected (a "
     "list goes indented under its key): check the indentation of line 4 against line 3"),
    # a list item out of line with the one before it
    ('name: peer\nmoderators:\n  accounts:\n    - alice\n   - bob\n',
     "5:4: (document): YAML syntax: did not find expected key: line 5 is a list item where a key was expected (a "
     "list goes indented under its key): check the indentation of line 5 against line 4"),
    # a tab
    ('name: peer\nmoderators:\n\troom: "!mods:test"\n',
     "3:1: (document): YAML syntax: found character that cannot start any token: line 3 has a tab: YAML "
     "indents with spaces only"),
    # a colon forgotten
    ('moderators:\n  room "!mods:test"\n  power_level: 50\n',
     "3:14: (document): YAML syntax: mapping values are not allowed in this context: is a ':' missing after the "
     "key on line 2?"),
    # a colon forgotten after a key before a mapping
    ('moderators:\n  room: x\n  accounts\n    - alice\n',
     "3:3: (document): YAML syntax: could not find expected ':': is a ':' missing after the key on line 3?"),
    # a quote left open
    ('name: "peer\nmoderators:\n  room: x\n',
     "1:7: (document): YAML syntax: found unexpected end of stream: the quote opened on line 1 is not closed"),
])
def test_yaml_syntax_errors_say_what_usually_causes_them(write, text, expected):
    path = write("p.yaml", text)
    assert errors_of(lambda: load(path)) == [f"{path}:{expected}"]


def test_an_unquoted_room_alias_or_channel_read_as_a_comment_says_quote_it(write):
    path = write("p.yaml", "extends: default\nname: peer\nmoderators:\n  room: #mods:example.org   # alerts\n"
                           "  accounts:\n    - #ops\n    - alice\n")
    assert errors_of(lambda: load(path)) == [
        f'{path}:4:9: moderators.room: #mods:example.org is read as a comment (a # after a space starts one), so '
        f'this value is empty: quote it: "#mods:example.org"',
        f'{path}:6:7: moderators.accounts[0]: #ops is read as a comment (a # after a space starts one), so this '
        f'value is empty: quote it: "#ops"']
    # the same in the config, for an IRC channel; a real comment after an empty value is left alone
    cfg = write("gateway.yaml", CONFIG.replace('room: "!group:test"', "room: #peer-support") + "limits: # none\n")
    assert errors_of(lambda: load_config(cfg)) == [
        f'{cfg}:10:11: rooms[0].room: #peer-support is read as a comment (a # after a space starts one), so this '
        f'value is empty: quote it: "#peer-support"']


def test_bad_duration(write):
    path = write("p.yaml", GOOD + "followup_after: tomorrow\n")
    assert errors_of(lambda: load(path)) == [
        f"{path}:6:17: followup_after: expected a duration like 30s, 15m, 24h or 7d, got 'tomorrow'"]


def test_every_error_in_a_file_is_reported_not_just_the_first(write):
    path = write("p.yaml", GOOD.replace("region: GB", "region: XX") + "mode: loud\nbogus: 1\n")
    errs = errors_of(lambda: load(path))
    assert [e.split(": ")[1] for e in errs] == ["region", "mode", "bogus"]


def test_yaml_syntax_error_location(write):
    path = write("p.yaml", "name: x\ntiers: [\n")
    errs = errors_of(lambda: load(path))
    assert len(errs) == 1 and errs[0].startswith(f"{path}:3:1: (document): YAML syntax")


def test_duplicate_keys_are_refused(write):
    path = write("p.yaml", GOOD + "region: US\n")
    assert errors_of(lambda: load(path)) == [f"{path}:6:1: region: duplicate key"]


def test_yaml_alias_bomb_is_refused_without_expanding(write):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(8))
    path = write("p.yaml", bomb)
    errs = errors_of(lambda: load(path))
    assert errs == [f"{path}:1:4: b[0]: YAML anchors and aliases are not allowed in gateway files"]


def test_huge_policy_file_is_refused(tmp_path):
    path = tmp_path / "huge.yaml"
    path.write_text("name: x\n# " + "y" * (1 << 20) + "\n")
    assert errors_of(lambda: load(path)) == [f"{path}:1:1: (document): file is larger than 1048576 bytes"]


def test_error_in_the_extended_policy_is_reported_in_that_file(write):
    base = write("base.yaml", GOOD.replace("extends: default", "extends: default\nmode: sometimes"))
    child = write("child.yaml", "extends: base\nname: child\n")
    assert errors_of(lambda: load(child)) == [
        f"{base}:2:7: mode: expected one of act, observe, got 'sometimes'"]


def test_extends_unknown_and_cycles(write):
    a = write("a.yaml", "extends: nope\nname: a\n")
    shipped = Path(__file__).resolve().parent.parent / "policies"
    assert errors_of(lambda: load(a)) == [f"{a}:1:10: extends: no policy named 'nope' to extend: looked for "
                                          f"nope.yaml or nope.yml in {a.parent}, {shipped}"]
    ab = write("ab.yaml", "extends: ./nope.yaml\nname: a\n")
    assert errors_of(lambda: load(ab)) == [f"{ab}:1:10: extends: no policy named './nope.yaml' to extend: no "
                                           f"file {a.parent / 'nope.yaml'}"]
    b = write("b.yaml", "extends: c\nname: b\n")
    write("c.yaml", "extends: b\nname: c\n")
    assert errors_of(lambda: load(b))[0].endswith("extends: policies extend each other in a cycle")


def test_removing_tier_must_message_first(write):
    path = write("p.yaml", GOOD + """
tiers:
  imminent:
    action:
      message: null
""")
    assert errors_of(lambda: load(path)) == [
        f"{path}:10:16: tiers.imminent.action.message: a tier that removes must send a private "
        "message first"]




def test_config_loads_with_policies_from_policy_dir(write):
    write("policies/peer.yaml", GOOD)
    cfg = load_config(write("gateway.yaml", CONFIG + "policy_dir: policies\n"))
    assert [(b.room, b.policy.name, b.region, b.moderators_room) for b in cfg.rooms] == [
        ("!group:test", "peer", "GB", "!mods:test")]
    assert cfg.event_log.name == "gateway.db"


def test_config_refuses_secrets_in_the_file(write):
    write("policies/peer.yaml", GOOD)
    path = write("gateway.yaml", CONFIG.replace("password_env: GATEWAY_MX_PASSWORD", "password: hunter2")
                 + "policy_dir: policies\n")
    errs = errors_of(lambda: load_config(path))
    assert errs == [f"{path}:7:5: networks.mx.password: a secret never goes in this file: export it as, say, "
                    "GATEWAY_MX_PASSWORD and write password_env: GATEWAY_MX_PASSWORD; if this file was shared, "
                    "change the secret"]  # one mistake, one line (it was also an "unknown key")
    assert "hunter2" not in "\n".join(errs)


IRC_NET = """
  irc:
    type: irc
    host: irc.example.org
    nick: safetybot
"""


@pytest.mark.parametrize("where, line, key, wanted", [
    ("mx", "    secret: hunter2", "networks.mx.secret", "password_env: GATEWAY_MX_PASSWORD"),
    ("irc", "    password: hunter2", "networks.irc.password", "sasl_password_env: GATEWAY_IRC_SASL_PASSWORD"),
    ("irc", "    nickserv_password: hunter2", "networks.irc.nickserv_password",
     "nickserv_password_env: GATEWAY_IRC_NICKSERV_PASSWORD"),
    ("mx", "    access_token: hunter2", "networks.mx.access_token", "access_token_env: GATEWAY_MX_ACCESS_TOKEN"),
    ("mx", "    encryption:\n      pickle_key: hunter2", "networks.mx.encryption.pickle_key",
     "pickle_key_env: GATEWAY_MX_PICKLE_KEY"),
])
def test_a_secret_given_inline_anywhere_is_one_line_naming_the_env_key_to_use(write, where, line, key, wanted):
    """Issue 26, item 6: each network's own *_env key is named (an IRC password is sasl_password_env)."""
    write("policies/peer.yaml", GOOD)
    text = CONFIG.replace("networks:\n", "networks:" + IRC_NET) + "policy_dir: policies\n"
    if where == "mx":
        text = text.replace("password_env: GATEWAY_MX_PASSWORD\n", f"password_env: GATEWAY_MX_PASSWORD\n{line}\n")
    else:
        text = text.replace("nick: safetybot\n", f"nick: safetybot\n{line}\n")
    errs = errors_of(lambda: load_config(write("gateway.yaml", text)))
    assert len(errs) == 1 and f"{key}: a secret never goes in this file: " in errs[0], errs
    assert f"write {wanted};" in errs[0] and "hunter2" not in errs[0]


SECRET_LOOKING = ["hunter2Secret!", "s3cret pass", "syt_Ym90_a1b2C3d4", "hunter2secret", "correct-horse",
                  "MDAxOGxvY2F0aW9uIGxvY2FsaG9zdAow", "Tr0ub4dor&3", "9LIVES"]
ENV_KEYS = {  # every key that names an environment variable: (what replaces what in CONFIG, its key path)
    "password_env": (("password_env: GATEWAY_MX_PASSWORD", "password_env: SECRET"), "networks.mx.password_env"),
    "access_token_env": (("password_env: GATEWAY_MX_PASSWORD", "access_token_env: SECRET"),
                         "networks.mx.access_token_env"),
    "pickle_key_env": (("password_env: GATEWAY_MX_PASSWORD", "password_env: GATEWAY_MX_PASSWORD\n    "
                        "encryption:\n      pickle_key_env: SECRET"), "networks.mx.encryption.pickle_key_env"),
    "sasl_password_env": (("nick: safetybot", "nick: safetybot\n    sasl_account: bot\n    sasl_password_env: SECRET"),
                          "networks.irc.sasl_password_env"),
    "nickserv_password_env": (("nick: safetybot", "nick: safetybot\n    services_server: services.example.org\n"
                               "    nickserv_password_env: SECRET"), "networks.irc.nickserv_password_env"),
}


@pytest.mark.parametrize("secret", SECRET_LOOKING)
def test_what_looks_like_a_secret_is_refused_without_being_shown(secret):
    from gateway.yamlfiles.checker import MISSING, Checker
    from gateway.yamlfiles.located import Located

    c = Checker(Located("gateway.yaml", {"password_env": secret}))
    assert c.env_name(("password_env",), secret, "GATEWAY_X", {}) is MISSING
    assert [e.message.split(" (")[0] for e in c.errors] == [
        "looks like a secret, not the name of an environment variable"]
    assert secret not in str(c.errors[0]) + repr(c.errors[0])


@pytest.mark.parametrize("key", sorted(ENV_KEYS))
def test_a_secret_where_a_variable_name_belongs_is_refused_and_never_repeated(write, key):
    """Issue 26, item 6: `password_env: "s3cret"` is said to look like a secret, at its line, in check and
    in run, and the value appears in no error, no exception's repr and no `gateway check` output."""
    import contextlib
    import io

    from gateway.cli import main

    secret = "hunter2Secret!"
    write("policies/peer.yaml", GOOD)
    (old, new), where = ENV_KEYS[key]
    text = CONFIG.replace("networks:\n", "networks:" + IRC_NET) + "policy_dir: policies\n"
    path = write("gateway.yaml", text.replace(old, new.replace("SECRET", f'"{secret}"')))
    line = next(i for i, text_line in enumerate(path.read_text().splitlines(), 1) if secret in text_line)
    for environ in (None, {"GATEWAY_MX_PASSWORD": "x"}):  # gateway check, gateway run
        with pytest.raises(ConfigErrors) as info:
            load_config(path, environ=environ)
        errs = [str(e) for e in info.value.errors]
        assert len(errs) == 1 and errs[0].startswith(f"{path}:{line}:"), errs
        assert f"{where}: looks like a secret, not the name of an environment variable (not shown here): " \
               "export the secret as, say, GATEWAY_" in errs[0]
        assert secret not in repr(info.value) + repr(info.value.errors) + str(info.value)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        assert main(["check", "--config", str(path)]) == 2
    assert "looks like a secret" in err.getvalue() and secret not in out.getvalue() + err.getvalue()


def test_a_variable_name_is_taken_as_written_or_as_set_and_an_unset_one_is_named(write, monkeypatch):
    """Capitals are a name (unset: the usual "not set" error names it); a lowercase name is a name when the
    environment has it; `$NAME` is a shell's spelling: the hint drops the $."""
    write("policies/peer.yaml", GOOD)

    def config(value: str):
        return write("gateway.yaml", CONFIG.replace("GATEWAY_MX_PASSWORD", value) + "policy_dir: policies\n")

    assert errors_of(lambda: load_config(config("BOT_PASSWORD_2"), environ={})) == [
        f"{config('BOT_PASSWORD_2')}:7:19: networks.mx.password_env: the environment variable BOT_PASSWORD_2 is "
        "not set (it holds the secret; export it before gateway run)"]
    monkeypatch.setenv("bot_password", "x")
    assert load_config(config("bot_password")).networks["mx"].settings["password_env"] == "bot_password"
    assert load_config(config("bot_password"), environ={"bot_password": "x"})
    monkeypatch.delenv("bot_password")
    assert "looks like a secret" in errors_of(lambda: load_config(config("bot_password")))[0]
    for spelled in ("$GATEWAY_MX_PASSWORD", "${GATEWAY_MX_PASSWORD}"):
        assert errors_of(lambda: load_config(config(f'"{spelled}"'))) == [
            f"{config('x')}:7:19: networks.mx.password_env: write the variable's name without $: "
            "GATEWAY_MX_PASSWORD (the gateway reads it from its environment; no shell expands it here)"]


def test_a_server_address_with_a_password_in_it_is_refused_without_showing_it(write):
    write("policies/peer.yaml", GOOD)
    text = CONFIG.replace("http://127.0.0.1:8008", "https://bot:hunter2@matrix.example.org")
    text = text.replace("networks:\n", "networks:" + IRC_NET.replace("irc.example.org", "bot:hunter2@irc.example.org"))
    errs = errors_of(lambda: load_config(write("gateway.yaml", text + "policy_dir: policies\n")))
    assert [e.split(": ", 2)[1:] for e in errs] == [
        [key, "a server's address carries no user or password (not shown here): give the address alone and the "
              "password through an *_env key; if this file was shared, change the secret"]
        for key in ("networks.irc.host", "networks.mx.homeserver")]
    assert "hunter2" not in "".join(errs)


def test_config_reports_errors_inside_the_policies_it_names(write):
    bad = write("policies/peer.yaml", GOOD.replace("region: GB", "region: ZZ"))
    path = write("gateway.yaml", CONFIG + "policy_dir: policies\n")
    assert errors_of(lambda: load_config(path)) == [
        f"{bad}:3:9: region: unknown region code 'ZZ' (ISO 3166-1 alpha-2 such as GB, or INTL)"]


def test_config_requires_a_moderators_room(write):
    path = write("gateway.yaml", CONFIG.replace("policy: peer", "policy: default"))
    errs = errors_of(lambda: load_config(path))
    assert len(errs) == 1 and errs[0].startswith(f"{path}:9:5: rooms[0]: no moderators' room")


def test_config_unknown_network_in_room(write):
    path = write("gateway.yaml", CONFIG.replace("  - network: mx", "  - network: mz"))
    assert errors_of(lambda: load_config(path)) == [
        f"{path}:9:14: rooms[0].network: no network named 'mz' under 'networks'"]


def test_reload_never_replaces_a_good_policy_with_a_bad_one(write):
    from gateway.config.config_file import build_engine, reload_rooms
    from gateway.core.events import Message

    policy_file = write("policies/peer.yaml", GOOD)
    cfg_path = write("gateway.yaml", CONFIG + "policy_dir: policies\n")
    engine = build_engine(load_config(cfg_path))
    good = engine.rooms[("mx", "!group:test")].policy

    policy_file.write_text(policy_file.read_text() + "tiers: [broken\n")
    errors = reload_rooms(engine, cfg_path)
    assert errors and str(errors[0]).startswith(f"{policy_file}:")
    assert engine.rooms[("mx", "!group:test")].policy is good
    acted = engine.handle(Message("mx", 1.0, room="!group:test", sender="@kit:test",
                                  text="i took all my pills"))
    assert any(type(a).__name__ == "SendPrivate" for a in acted)  # still protecting people

    policy_file.write_text(GOOD.replace("region: GB", "region: US"))
    assert reload_rooms(engine, cfg_path) == []
    assert engine.rooms[("mx", "!group:test")].region == "US"


NEWCOMER = """\
event_log: gateway.db
policy_dir: policies
networks:
  matrix:
    type: matrix
    homeserver: matrix.example.org
    user_id: "@bot:example.org"
    password_env: GATEWAY_MX_PASSWORD
  libera:
    type: irc
    host: irc.libera.chat
    port: six-six-nine-seven
    tls: yes-please
    nick: safety-bot
    flood_rate: fast
rooms:
  - network: matrix
    room: "#support:example.org"
    policy: defualt
    moderators_room: "#mods:example.org"
  - network: libera
    room: "peer-support"
    policy: peer
    region: UK
  - network: librea
    room: "#other"
    policy: peer
"""


def test_a_newcomers_config_gets_every_mistake_at_its_line_with_suggestions(write):
    """Issue 16: six kinds of mistake in one file, all reported in one run, each at its line."""
    write("policies/peer.yaml", GOOD.replace('"!mods:test"', '"#mods"'))
    path = write("gateway.yaml", NEWCOMER)
    errs = errors_of(lambda: load_config(path))
    assert errs == [
        f"{path}:6:17: networks.matrix.homeserver: expected a URL with its scheme, like "
        "https://matrix.example.org, got 'matrix.example.org'",
        f"{path}:12:11: networks.libera.port: expected an integer, got string",
        f"{path}:13:10: networks.libera.tls: expected true or false, got string",
        f"{path}:15:17: networks.libera.flood_rate: expected a number, got string",
        f"{path}:19:13: rooms[0].policy: no policy named 'defualt' (looked in {path.parent / 'policies'}, "
        f"{PolicyLoader().shipped_dir}) (did you mean 'default'?)",
        f"{path}:22:11: rooms[1].room: expected an IRC channel (#name or &name, no spaces or commas), "
        "got 'peer-support'",
        f"{path}:24:13: rooms[1].region: unknown region code 'UK' (ISO 3166-1 alpha-2, or INTL) "
        "(did you mean 'GB'?)",
        f"{path}:25:14: rooms[2].network: no network named 'librea' under 'networks' (did you mean 'libera'?)",
    ]


def test_a_policy_used_by_many_rooms_reports_its_errors_once(write):
    write("policies/peer.yaml", GOOD + "mode: loud\n")
    rooms = "".join(f"  - network: mx\n    room: \"!r{i}:test\"\n    policy: peer\n" for i in range(3))
    path = write("gateway.yaml", CONFIG.split("rooms:")[0] + "rooms:\n" + rooms + "policy_dir: policies\n")
    errs = errors_of(lambda: load_config(path))
    assert len(errs) == 1 and "mode: expected one of act, observe, got 'loud'" in errs[0]


def test_region_and_template_typos_get_suggestions(write):
    path = write("p.yaml", GOOD.replace("region: GB", "region: gb") + """
tiers:
  high:
    action:
      message: crisis_dn
      remove: false
""")
    errs = errors_of(lambda: load(path))
    assert any("unknown region code 'gb'" in e and "(did you mean 'GB'?)" in e for e in errs)
    assert any("no template named 'crisis_dn' (did you mean 'crisis_dm'?)" in e for e in errs)


def test_a_bad_regex_is_one_clean_line(write, capfd):
    path = write("p.yaml", GOOD + """
tiers:
  high:
    rules:
      mine:
        regexes: ['(unclosed', '(?<=look)behind']
""")
    errs = errors_of(lambda: load(path))
    assert errs == [
        f"{path}:11:19: tiers.high.rules.mine.regexes[0]: bad regex: missing ): (unclosed (RE2 syntax, linear "
        "time: no backreferences or lookaround)",
        f"{path}:11:32: tiers.high.rules.mine.regexes[1]: bad regex: invalid perl operator: (?<= (RE2 syntax, "
        "linear time: no backreferences or lookaround)"]
    out, err = capfd.readouterr()
    assert "re2.cc" not in out + err and "absl" not in out + err


def test_run_needs_the_secrets_environment_variables_check_only_warns(write, monkeypatch):
    write("policies/peer.yaml", GOOD)
    path = write("gateway.yaml", CONFIG + "policy_dir: policies\n")
    monkeypatch.delenv("GATEWAY_MX_PASSWORD", raising=False)
    load_config(path)  # gateway check: fine here (it warns)
    errs = errors_of(lambda: load_config(path, environ={}))
    assert errs == [f"{path}:7:19: networks.mx.password_env: the environment variable GATEWAY_MX_PASSWORD is "
                    "not set (it holds the secret; export it before gateway run)"]
    assert load_config(path, environ={"GATEWAY_MX_PASSWORD": "x"}).networks["mx"].settings["password_env"]


def test_lists_extend_what_they_inherit_and_shrink_only_when_asked(write):
    """Issue 16: a copied list adds; remove and replace are explicit; a typo in remove is an error."""
    default = PolicyLoader().load("default")
    added = load(write("a.yaml", GOOD + "exceptions:\n  jokes: [\"lolz\"]\n"))
    assert added.jokes == default.jokes + ("lolz",)
    removed = load(write("r.yaml", GOOD + "exceptions:\n  jokes: {remove: [\"xd\"], add: [\"lolz\"]}\n"))
    assert "xd" not in removed.jokes and "lolz" in removed.jokes and len(removed.jokes) == len(default.jokes)
    replaced = load(write("p.yaml", GOOD + "exceptions:\n  jokes: {replace: [\"lolz\"]}\n"))
    assert replaced.jokes == ("lolz",)
    path = write("t.yaml", GOOD + "exceptions:\n  jokes: {remove: [\"xdd\"]}\n")
    assert errors_of(lambda: load(path)) == [
        f"{path}:7:20: exceptions.jokes.remove[0]: 'xdd' is not in the inherited list"]
    phrases = load(write("w.yaml", GOOD + "tiers:\n  concern:\n    rules:\n      wish_dead:\n"
                                          "        phrases: [\"purple elephant phrase\"]\n"))
    old = {r.id: r for r in default.tiers["concern"].rules}["concern.wish_dead"].phrases
    new = {r.id: r for r in phrases.tiers["concern"].rules}["concern.wish_dead"].phrases
    assert set(old) < set(new) and "purple elephant phrase" in new


def test_check_says_what_an_extending_policy_weakens(write):
    from .test_cli import run

    path = write("weak.yaml", GOOD + """
model:
  enabled: false
tiers:
  concern:
    rules:
      hopeless: null
  high:
    rules:
      active_thoughts:
        phrases: {remove: ["i wanna die"]}
  imminent:
    action:
      message: crisis_dm
      remove: false
""")
    r = run("check", "--policy", str(path), text=True)
    assert r.returncode == 0, r.stderr
    assert "policy peer extends default: 4 change(s) that matter for detection, 4 of them weakening it" in r.stderr
    for line in ("warning: tiers.concern: rule concern.hopeless dropped",
                 "warning: tiers.high: rule high.active_thoughts: 1 of",
                 "warning: tiers.imminent.action.remove: no longer removes the person",
                 "warning: model.enabled: the learned model is off"):
        assert line in r.stderr


def test_a_misspelt_template_override_is_an_error_not_a_new_unused_template(write):
    path = write("p.yaml", GOOD + 'templates:\n  removal_reasn: "Removed by the bot."\n')
    assert errors_of(lambda: load(path)) == [
        f"{path}:7:3: templates.removal_reasn: no template named 'removal_reasn' to override, and no tier or "
        "rule uses it (did you mean 'removal_reason'?)"]
    own = load(write("q.yaml", GOOD + 'templates:\n  my_dm: "Hi from {room}."\ntiers:\n  concern:\n'
                                      '    rules:\n      mine:\n        message: my_dm\n'
                                      '        phrases: ["purple elephant phrase"]\n'))
    assert own.templates["my_dm"] == "Hi from {room}."


def test_room_shapes_per_network(write):
    """Room version 12 ids have no server part (!abc); aliases always do; IRC channels start with # or &."""
    write("policies/peer.yaml", GOOD)
    for room in ("!abcDEF123", "!abc:example.org", "#alias:example.org"):
        path = write("gateway.yaml", CONFIG.replace('"!group:test"', f'"{room}"') + "policy_dir: policies\n")
        assert [b.room for b in load_config(path).rooms] == [room]
    for room in ("#alias-without-server", "group", "!has space"):
        path = write("gateway.yaml", CONFIG.replace('"!group:test"', f'"{room}"') + "policy_dir: policies\n")
        assert "rooms[0].room: expected a Matrix room id" in errors_of(lambda: load_config(path))[0]


def test_a_follow_up_regex_is_checked_at_its_line_and_dropping_them_is_a_weakening(write):
    """``context.followups`` (a short line that carries out earlier risk): a bad regex is an error at its line; a
    room policy that replaces them with none is told it weakens detection."""
    from gateway.policy.diff import compare

    bad = write("bad-followup.yaml", GOOD + "context:\n  followups:\n    - 'taking (them'\n")
    with pytest.raises(ConfigErrors) as errors:
        PolicyLoader([bad.parent]).load(str(bad))
    assert f"{bad}:" in str(errors.value) and "context.followups[" in str(errors.value) and "bad regex" in str(errors.value)
    none = write("no-followups.yaml", GOOD + "context:\n  followups: {replace: []}\n")
    weaker = PolicyLoader([none.parent]).load(str(none))
    assert not weaker.context.followups
    default = PolicyLoader().load("default")
    assert [c.text for c in compare(default, weaker) if c.weakens and "context.followups" in c.text]


def test_spellings_read_each_phrase_and_regex_word_spelt_either_way(write):
    """``spellings`` (round 20): a word typed another way ("bruecke" on a keyboard without umlauts) reads as the word in
    every phrase and regex holding it whole; a word inside another ("brucken") or a character class is left alone."""
    from gateway.policy.loader import _respelt
    path = write("peer.yaml", GOOD + """
spellings: {pills: pillz, bridge: brigde}
tiers:
  high:
    rules:
      mine:
        phrases: ["purple pills phrase"]
        regexes: ['\\bgreen (?:bridge|tower) phrase\\b']
""")
    p = load(path)
    mine = next(r for r in p.tiers["high"].rules if r.id == "high.mine")
    assert mine.phrases == ("purple pills phrase", "purple pillz phrase")
    detector = detector_for(p)
    assert detector.detect("a purple pillz phrase").rules == ("high.mine",)
    assert detector.detect("a green brigde phrase").rules == ("high.mine",)
    spellings = {"brucke": "bruecke", "hang": "haeng"}
    assert _respelt(r"\b(?:hang|heng) (?:mich|mi) auf der brucke$", spellings) == (
        r"\b(?:(?:hang|haeng)|heng) (?:mich|mi) auf der (?:brucke|bruecke)$")
    assert _respelt(r"\b\w{3,}(?:brucke|brugg)\b [^hang]", spellings) == r"\b\w{3,}(?:(?:brucke|bruecke)|brugg)\b [^hang]"
    assert _respelt(r"\bbrucken\b", spellings) == r"\bbrucken\b"


def test_a_spelling_is_one_word_and_a_loanword_names_a_part(write):
    path = write("peer.yaml", GOOD + """
spellings: {"two words": other}
compose:
  loanwords:
    no_such_part: ["tonight"]
""")
    errors = "\n".join(errors_of(lambda: load(path)))
    assert "spellings" in errors and "a spelling names one word" in errors
    assert "no part named 'no_such_part'" in errors


def test_loanwords_are_a_parts_phrases_and_remembered_as_loanwords(write):
    """``compose.loanwords`` (round 20): another language's words for a part are added to its phrases, and the composer
    knows them apart (a line identified as English does not read them in a German policy: test_detect_de)."""
    p = load(write("peer.yaml", GOOD + """
compose:
  parts:
    foreign_only: {}
  loanwords:
    pills: ["pildoras", "pills"]
    foreign_only: ["quiero morir"]
"""))
    assert "pildoras" in p.compose.parts["pills"].phrases
    assert p.compose.loanwords["pills"] == frozenset({"pildoras"})  # "pills" was the part's own already
    assert p.compose.parts["foreign_only"].phrases == ("quiero morir",)  # a part of loanwords only
