"""German, French and Spanish rooms (issue 27): every language has every template with the same placeholders,
the person and the group room read the room's language, the moderators theirs (``moderators.language``),
and the crisis lines' labels follow the room's language."""

from __future__ import annotations

import re
import string
import subprocess
import textwrap

import pytest
import yaml

from gateway.core import actions as A
from gateway.policy.crisis_lines import LABELS, load_directory
from gateway.core.engine import Engine
from gateway.core.events import PrivateMessage
from gateway.policy.model import MODERATOR_TEMPLATES, SHIPPED_DIR
from gateway.policy.loader import PolicyLoader
from gateway.yamlfiles.located import SAFE_LOADER, ConfigErrors

from .conftest import CONFIG, MODS, NET, ROOM, make_binding, say
from .test_cli import GATEWAY, run
from .test_engine import IMMINENT, only, outcome

LANGUAGES = ("de", "fr", "es")


def language_file(language: str) -> dict:
    """policies/templates/LANG.yaml as parsed (libyaml's parser: these files are read dozens of times here)."""
    return yaml.load((SHIPPED_DIR / "templates" / f"{language}.yaml").read_text(), Loader=SAFE_LOADER)


def shipped(language: str) -> dict[str, str]:
    return language_file(language)["templates"]


def placeholders(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}


@pytest.mark.parametrize("language", ("en",) + LANGUAGES)
def test_every_language_has_every_english_template_with_the_same_placeholders(language):
    english, other = shipped("en"), shipped(language)
    assert sorted(other) == sorted(english)
    for name, text in english.items():
        assert placeholders(other[name]) == placeholders(text), f"{language}.yaml: {name}"
    whole = language_file(language)
    assert whole["language"] == language and whole["guidelines"].strip() and whole["guidance"].strip()


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_room_policy_in_each_language_passes_gateway_check(write, language):
    write("policies/peer.yaml", f"""
        extends: default
        name: peer
        language: {language}
        region: GB
        moderators:
          room: "!mods:test"
        """)
    cfg = write("gateway.yaml", CONFIG + "policy_dir: policies\n")
    r = run("check", "--config", str(cfg))
    assert r.returncode == 0, r.stderr.decode()
    assert r.stdout.decode().splitlines()[-1].startswith("ok: ")


def room_policy(write, language: str, moderators_language: str | None = None):
    extra = f"\n          language: {moderators_language}" if moderators_language else ""
    path = write("peer.yaml", f"""
        extends: default
        name: peer
        language: {language}
        moderators:
          room: "!mods:test"{extra}
        """)
    return PolicyLoader().load(str(path))


def engine_for(policy, region="DE"):
    counter = iter(range(1, 10_000))
    return Engine([make_binding(policy, region=region)], load_directory(), bot_ids={NET: "@bot:test"},
                  case_id=lambda: f"case{next(counter)}")


def at_risk_flow(engine):
    """The person's private message, the removal and the moderators' alert, each accepted."""
    dm = only(engine.handle(say(IMMINENT)), A.SendPrivate)
    remove = only(engine.handle(outcome(dm)), A.RemoveFromRoom)
    alert = only(engine.handle(outcome(remove)), A.AlertModerators)
    return dm, remove, alert


def test_a_german_room_sends_the_german_crisis_message_reason_and_alert(write):
    dm, remove, alert = at_risk_flow(engine_for(room_policy(write, "de")))
    assert dm.text.startswith("Hallo. Das ist eine automatische Nachricht vom Sicherheits-Bot im Raum !group:test.")
    assert "Ich bin ein Bot, kein Mensch" in dm.text
    assert "- TelefonSeelsorge: Telefon 0800 111 0 111 oder 0800 111 0 222" in dm.text
    assert "(rund um die Uhr, kostenlos)" in dm.text and "ruf den Notruf an: 112" in dm.text
    assert "Es kann sein, dass der Bot dich" in dm.text  # never says the removal happened
    assert remove.reason == "Vom Raum-Bot entfernt (automatisch). Das Moderationsteam meldet sich."
    assert alert.text.startswith("[DRINGEND] Fall case1: Risiko akut bei @kit:test")
    assert "Private Nachricht: zugestellt. Entfernen: erledigt." in alert.text
    assert "Bitte privat bei der Person nachfragen." in alert.text


def test_moderators_who_read_english_get_english_alerts_while_the_room_reads_german(write):
    engine = engine_for(room_policy(write, "de", moderators_language="en"))
    dm, remove, alert = at_risk_flow(engine)
    assert "Was du geschrieben hast" in dm.text
    assert remove.reason.startswith("Vom Raum-Bot entfernt")
    assert alert.text.startswith("[URGENT] Case case1: imminent risk for @kit:test")
    assert "Private message: delivered. Removal: done." in alert.text
    mods_help = only(engine.handle(say("!help", room=MODS, power=100)), A.PostNotice)
    room_help = only(engine.handle(say("!help", sender="@ana:test")), A.PostNotice)
    assert mods_help.text.startswith("Safety bot commands:")
    assert room_help.text == ("Befehle des Sicherheits-Bots:\n!help - diese Liste\n"
                              "!resources [LAND] - kostenlose Krisennummern, privat an dich\n"
                              "Das ist ein automatischer Bot, kein Mensch und keine Beratungsstelle.")
    assert "!help - this list\n!resources [COUNTRY] - free crisis lines" in mods_help.text


@pytest.mark.parametrize("language, refused, elsewhere", [
    ("en", "Sorry, !pause is for moderators.", "!cases works in the moderators' room."),
    ("de", "!pause ist nur für das Moderationsteam.", "!cases funktioniert im Raum des Moderationsteams."),
    ("fr", "!pause est réservé à l'équipe de modération.",
     "!cases fonctionne dans le salon de l'équipe de modération."),
    ("es", "!pause es solo para el equipo de moderación.", "!cases funciona en la sala del equipo de moderación."),
])
def test_the_group_room_reads_command_refusals_in_its_language(write, language, refused, elsewhere):
    engine = engine_for(room_policy(write, language))
    assert only(engine.handle(say("!pause", sender="@ana:test")), A.PostNotice).text == refused
    assert only(engine.handle(say("!cases", power=100)), A.PostNotice).text == elsewhere


def test_an_unknown_moderators_language_is_refused_at_its_key(write):
    with pytest.raises(ConfigErrors) as err:
        room_policy(write, "de", moderators_language="eng")
    assert "moderators.language: no templates for language 'eng'; shipped: de, en, es, fr" in str(err.value)


def test_a_spanish_room_in_the_us_gets_us_lines_written_in_spanish(write):
    dm, _, _ = at_risk_flow(engine_for(room_policy(write, "es"), region="US"))
    assert "- 988 Suicide & Crisis Lifeline: llama al 988, SMS al 988" in dm.text
    assert "- Crisis Text Line: envía HOME por SMS al 741741 (24 horas, todos los días)" in dm.text
    assert "llama a emergencias: 911" in dm.text


def test_a_french_room_without_a_directory_entry_gets_the_international_line_in_french(write):
    dm, _, _ = at_risk_flow(engine_for(room_policy(write, "fr"), region="INTL"))
    assert "Trouve une ligne d'écoute gratuite dans ton pays sur https://findahelpline.com" in dm.text
    assert "appelle les urgences : le numéro d'urgence de ton pays" in dm.text


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_shipped_hours_note_is_written_in_each_language(language):
    notes = {part for region in load_directory().regions.values() for line in region.lines
             for part in line.hours.split(", ")}
    untranslated = {n for n in notes if n not in LABELS[language] and not n.startswith("see ")}
    assert not untranslated, f"add to gateway/policy/crisis_lines.py LABELS[{language!r}]: {sorted(untranslated)}"


@pytest.mark.parametrize("language", ["de", "fr", "es"])
def test_every_shipped_note_in_english_is_said_in_each_language(language):
    """A note that describes a service in English ("(mental health line)", "Ministry of Health line") reaches a
    German, French or Spanish reader in their language; a name ("(Minsal)", "Samaritans") stays as it is."""
    lines = [line for region in load_directory().regions.values() for line in region.lines]
    notes = {n for line in lines for n in re.findall(r"\([^)]*\)", line.service) if " " in n or n[1].islower()}
    described = {line.service for line in lines if re.fullmatch(r"[A-Z][a-z]+( [A-Za-z]+)* line( \d+)?", line.service)}
    assert "(mental health line)" in notes and "Ministry of Health line" in described
    untranslated = sorted(n for n in notes | described if n not in LABELS[language])
    assert not untranslated, f"add to gateway/policy/crisis_lines.py LABELS[{language!r}]: {untranslated}"


def test_french_crisis_lines_read_as_french_typography():
    text = load_directory().lines_text("FR", "fr")
    assert text.splitlines() == [
        "- 3114 (prévention du suicide) : appelle le 3114 (24h/24, 7j/7, gratuit)",
        "- SOS Amitié : appelle le 09 72 39 40 50, chat : https://www.sos-amitie.com (tél. 24h/24, chat 13h-3h)"]


@pytest.mark.parametrize("word, language", [("reden", "de"), ("„Reden“", "de"), ("parler", "fr"), ("« parler »", "fr"),
                                            ("hablar", "es"), ("«hablar»", "es")])
def test_the_word_the_templates_give_asks_for_a_moderator(write, word, language):
    engine = engine_for(room_policy(write, language))
    acts = engine.handle(PrivateMessage(NET, 1_800_000_000.0, sender="@kit:test", text=word, rooms=(ROOM,)))
    assert only(acts, A.SendPrivate).text == shipped(language)["talk_ack"].format(emergency="112")
    assert only(acts, A.AlertModerators).room == MODS


def test_moderator_templates_are_the_ones_the_moderators_room_reads():
    english = shipped("en")
    assert MODERATOR_TEMPLATES <= set(english)
    for name in MODERATOR_TEMPLATES:  # every moderator template is about a case or many cases
        assert {"case", "cases", "user"} & placeholders(english[name]), name


@pytest.mark.parametrize("language, first", [("de", "Willkommen. Dieser Raum"), ("fr", "Bienvenue. Ce salon"),
                                             ("es", "Te damos la bienvenida. Esta sala")])
def test_a_room_extending_the_english_default_posts_guidelines_in_its_own_language(write, language, first):
    assert room_policy(write, language).guidelines.text.startswith(first)
    own = write("own.yaml", f"""
        extends: default
        name: own
        language: {language}
        guidelines:
          text: "Our own words."
        moderators:
          room: "!mods:test"
        """)
    assert PolicyLoader().load(str(own)).guidelines.text == "Our own words."


def test_the_defaults_guidance_reaches_the_moderators_in_their_language(write):
    assert room_policy(write, "de").moderators.guidance.startswith("Keine Beratung oder Therapie anbieten.")
    assert room_policy(write, "de", moderators_language="en").moderators.guidance.startswith("Do not counsel.")
    assert room_policy(write, "en", moderators_language="fr").moderators.guidance.startswith("Pas de conseil")


def test_the_demo_plays_each_language_with_its_own_lines_and_the_english_rules_standing_in(tmp_path):
    from gateway.demo import SCRIPT, SCRIPTS, demo_policy, script_for

    assert demo_policy("en", tmp_path) == ("default", None)
    policy, note = demo_policy("de", tmp_path)  # no default-de here: the English rules stand in, and say so
    assert policy.startswith("extends: default\n") and "language: de" in policy and "no default-de" in note
    (tmp_path / "default-de.yaml").write_text("")
    assert demo_policy("de", tmp_path) == ("extends: default-de\nname: demo-de\nlanguage: de\n", None)
    for language in ("de", "fr", "es"):
        own = script_for(language, english_rules=False)
        assert [k for *_, k in own] == [k for *_, k in SCRIPT] and not set(own) & set(SCRIPT)
        stand_in = script_for(language, english_rules=True)
        assert stand_in[:2] == SCRIPTS[language][:2] and stand_in[2:] == SCRIPT[2:]


@pytest.mark.live
def test_gateway_demo_in_german(tmp_path):
    from gateway.demo.homeserver import synapse_available

    if not synapse_available():
        pytest.skip("matrix-synapse is not installed: pip install -e '.[test]'")
    r = subprocess.run([GATEWAY, "demo", "--once", "--language", "de"], capture_output=True, timeout=240, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    out = r.stdout
    assert "kit: joins and sees the pinned guidelines\n          | Willkommen. Dieser Raum" in out
    assert "sam: writes 'die Klausur bringt mich echt um lol'" in out
    dm, removed, alert = (out.index("kit: reads the private message"), out.index("sees kit removed"),
                          out.index("[DRINGEND] Fall"))
    assert dm < removed < alert
    assert "| Hallo. Das ist eine automatische Nachricht vom Sicherheits-Bot im Raum Peer-Support." in out[dm:removed]
    assert "- TelefonSeelsorge: Telefon 0800 111 0 111 oder 0800 111 0 222" in out[dm:removed]
    assert "| Vom Raum-Bot entfernt (automatisch). Das Moderationsteam meldet sich." in out[removed:alert]
    assert "Message text found in the files the gateway wrote: NONE" in out


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_status_an_alert_can_tell_is_written_in_each_language(language):
    from gateway.core.cases import STATUS_WORDING

    words = language_file(language)["statuses"]
    assert set(words) == STATUS_WORDING
    assert all(placeholders(words[w]) == placeholders(w) for w in words)


@pytest.mark.parametrize("language, region, emergency, talk", [
    ("de", "DE", "112", "„reden“"), ("fr", "FR", "15 (ou 112)", "« parler »"), ("es", "ES", "112", "«hablar»")])
@pytest.mark.parametrize("text", ["i took all my pills", "i want to kill myself", "i wish i was dead",
                                  "i cut myself again tonight"])
def test_crisis_messages_on_irc_are_a_few_lines_in_each_language(write, language, region, emergency, talk, text):
    import types

    from adapters.irc import IrcAdapter

    policy = room_policy(write, language)
    counter = iter(range(1, 10_000))
    engine = Engine([make_binding(policy, region=region, network_type="irc")], load_directory(),
                    bot_ids={NET: "bot"}, case_id=lambda: f"case{next(counter)}")
    body = only(engine.handle(say(text, sender="kit")), A.SendPrivate).text
    lines = IrcAdapter._text_lines(types.SimpleNamespace(), "PRIVMSG", "somebody_long_nick", body)
    assert len(lines) <= 3, lines
    assert emergency in body and talk in body and shipped(language)["crisis_dm_irc"][:12] in body


def test_someone_in_two_german_rooms_is_asked_which_in_german(write):
    policy = room_policy(write, "de")
    engine = Engine([make_binding(policy, region="DE"), make_binding(policy, room="!other:test", region="DE")],
                    load_directory(), bot_ids={NET: "@bot:test"})
    acts = engine.handle(PrivateMessage(NET, 1_800_000_000.0, sender="@kit:test", text="reden",
                                        rooms=(ROOM, "!other:test")))
    assert only(acts, A.SendPrivate).text.startswith("Du bist mit diesem Bot in mehreren Räumen (!group:test, "
                                                     "!other:test).")
    lonely = engine.handle(PrivateMessage(NET, 1_800_000_000.0, sender="@lee:test", text="reden", rooms=()))
    assert "deshalb wurde niemand gefragt" in only(lonely, A.SendPrivate).text
    assert "findest du unter https://findahelpline.com" in only(lonely, A.SendPrivate).text


def test_the_same_words_in_english_for_a_room_extending_a_policy_in_another_language(write):
    from gateway.policy.loader import PolicyLoader as Loader

    default = Loader().load("default")
    parent = write("german.yaml", """
        extends: default
        name: german
        language: de
        guidelines:
          text: "Willkommen, unsere eigenen Regeln."
        moderators:
          guidance: "Unsere eigene Anleitung."
        """)
    child = write("english.yaml", f"""
        extends: {parent}
        name: english
        language: en
        moderators:
          room: "!mods:test"
        """)
    policy = Loader().load(str(child))
    assert policy.guidelines.text == default.guidelines.text
    assert policy.moderators.guidance == default.moderators.guidance


def test_a_full_policy_in_german_without_guidance_gives_its_moderators_the_german_one(write):
    """A shipped default-LANG policy is full, not an extension: guidance it does not write is the language's."""
    english = (SHIPPED_DIR / "default.yaml").read_text()
    german = english.replace("name: default\n", "name: full\n", 1).replace("language: en\n", "language: de\n", 1)
    german = german.replace('  guidance: "Do not counsel. If you believe someone is in immediate danger, contact local '
                            'emergency services."\n', "", 1)
    assert "guidance:" not in german.split("moderators:", 1)[1].split("\n\n", 1)[0]
    policy = PolicyLoader().load(str(write("full.yaml", german)))
    assert policy.moderators.guidance.startswith("Keine Beratung oder Therapie anbieten.")
