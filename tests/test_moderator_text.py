"""Issue 27 item 1: what the moderators read follows ``moderators.language``, also where the code writes it
(the line of commands that ends an alert, tiers and priorities, ``!cases``, ``!case ID`` and its history,
``!status``, the weekly digest): every language file has every key of ``moderator_text:`` with the same
{fields}, and a language file that lacks one is refused at load."""

from __future__ import annotations

import shutil
import string

import pytest
import yaml

from gateway.core import actions as A
from gateway.ops.digest_text import digest_text
from gateway.ops.insight import Trouble
from gateway.policy.moderator_text import SECTION
from gateway.policy.model import SHIPPED_DIR
from gateway.policy.loader import PolicyLoader
from gateway.yamlfiles.located import SAFE_LOADER, ConfigErrors

from .conftest import MODS, say
from .test_engine import only, outcome
from .test_templates import LANGUAGES, at_risk_flow, engine_for, room_policy

OUTCOMES = "resolved, safe, referred, no_contact, false_alarm, other"
RULES = "imminent.act_frames, imminent.act_under_way, imminent.compose.act_dose"

# What a moderator reads, by language: the alert's first words and last line, then the replies to !cases,
# !case case1 and !status five minutes later (the alert was sent; nobody acknowledged it yet).
READ = {
    "en": ("[URGENT] Case case1: imminent risk for @kit:test",
           f"Next: !ack case1 · !case case1 · !readmit case1 · !close case1 OUTCOME, OUTCOME one of: {OUTCOMES}",
           "1 open case(s):\ncase1: imminent, @kit:test in !group:test, 5m ago, NOT acknowledged",
           f"Case case1: imminent ({RULES}) for @kit:test in !group:test (test), opened 5m ago. Private message: "
           "delivered. Removal: done. Alert: sent. Status: NOT acknowledged; follow-up reminder in 23h.\n"
           "History (UTC):\n2027-01-15 08:00:00 opened: imminent risk\n08:00:01 private message delivered\n"
           "08:00:01 removed from the room\n08:00:02 moderators alerted\n"
           "2027-01-16 08:00:02 follow-up reminder due (in 23h)",
           "Watching 1 room(s) for this moderators' room:\n"
           "!group:test (test): 1 open case(s), 0 awaiting an alert; mode: act; not paused."),
    "de": ("[DRINGEND] Fall case1: Risiko akut bei @kit:test",
           "Als Nächstes: !ack case1 · !case case1 · !readmit case1 · !close case1 ERGEBNIS; "
           f"ERGEBNIS ist eins von: {OUTCOMES}",
           "Offene Fälle: 1:\ncase1: akut, @kit:test in !group:test, vor 5 min, NICHT bestätigt",
           f"Fall case1: akut ({RULES}) bei @kit:test in !group:test (test), eröffnet vor 5 min. Private Nachricht: "
           "zugestellt. Entfernen: erledigt. Alarm: gesendet. Status: NICHT bestätigt; Erinnerung in 23 h.\n"
           "Verlauf (UTC):\n2027-01-15 08:00:00 eröffnet: Risiko akut\n08:00:01 private Nachricht zugestellt\n"
           "08:00:01 aus dem Raum entfernt\n08:00:02 Moderationsteam alarmiert\n"
           "2027-01-16 08:00:02 Erinnerung fällig (in 23 h)",
           "Räume, die dieser Moderationsraum betreut: 1\n"
           "!group:test (test): offene Fälle: 1; Alarm ausstehend: 0; Modus: act; nicht pausiert."),
    "fr": ("[URGENT] Cas case1 : risque imminent pour @kit:test",
           f"Ensuite : !ack case1 · !case case1 · !readmit case1 · !close case1 ISSUE ; ISSUE parmi : {OUTCOMES}",
           "Cas ouverts : 1 :\ncase1 : imminent, @kit:test dans !group:test, il y a 5 min, PAS pris en charge",
           f"Cas case1 : imminent ({RULES}) pour @kit:test dans !group:test (test), ouvert il y a 5 min. Message "
           "privé : remis. Retrait : fait. Alerte : envoyée. Statut : PAS pris en charge ; rappel dans 23 h.\n"
           "Historique (UTC) :\n2027-01-15 08:00:00 ouvert : risque imminent\n08:00:01 message privé remis\n"
           "08:00:01 retiré·e du salon\n08:00:02 équipe de modération alertée\n"
           "2027-01-16 08:00:02 rappel prévu (dans 23 h)",
           "Salons suivis pour ce salon de modération : 1\n"
           "!group:test (test) : cas ouverts : 1 ; alertes en attente : 0 ; mode : act ; pas en pause."),
    "es": ("[URGENTE] Caso case1: riesgo inminente de @kit:test",
           "Siguiente: !ack case1 · !case case1 · !readmit case1 · !close case1 RESULTADO; "
           f"RESULTADO es uno de: {OUTCOMES}",
           "Casos abiertos: 1:\ncase1: inminente, @kit:test en !group:test, hace 5 min, SIN confirmar",
           f"Caso case1: inminente ({RULES}) de @kit:test en !group:test (test), abierto hace 5 min. Mensaje "
           "privado: entregado. Expulsión: hecha. Alerta: enviada. Estado: SIN confirmar; recordatorio en 23 h.\n"
           "Historial (UTC):\n2027-01-15 08:00:00 abierto: riesgo inminente\n08:00:01 mensaje privado entregado\n"
           "08:00:01 sacado de la sala\n08:00:02 moderación avisada\n2027-01-16 08:00:02 toca recordatorio (en 23 h)",
           "Salas que atiende esta sala de moderación: 1\n"
           "!group:test (test): casos abiertos: 1; alertas pendientes: 0; modo: act; sin pausa."),
}


def section(language: str) -> dict[str, str]:
    return yaml.load((SHIPPED_DIR / "templates" / f"{language}.yaml").read_text(),
                     Loader=SAFE_LOADER)[SECTION]


def fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language_has_every_moderator_text_with_the_same_fields(language):
    english, other = section("en"), section(language)
    assert sorted(other) == sorted(english)
    for key, text in english.items():
        assert fields(other[key]) == fields(text), f"{language}.yaml {SECTION}.{key}"
        assert other[key].strip(), f"{language}.yaml {SECTION}.{key}"


def what_moderators_read(engine) -> tuple[str, str, str, str, str]:
    """The alert of an imminent case, then !cases, !case case1 and !status in the moderators' room."""
    *_, alert = at_risk_flow(engine)
    engine.handle(outcome(alert, ts=1_800_000_002.0))

    def reply(command: str) -> str:
        return only(engine.handle(say(command, room=MODS, power=100, ts=1_800_000_300.0)), A.PostNotice).text

    return alert.text, alert.text.splitlines()[-1], reply("!cases"), reply("!case case1"), reply("!status")


@pytest.mark.parametrize("language", LANGUAGES)
def test_moderators_read_alerts_and_replies_in_their_language_when_the_room_is_english(write, language):
    alert, next_line, cases, case, status = what_moderators_read(
        engine_for(room_policy(write, "en", moderators_language=language)))
    first, want_next, want_cases, want_case, want_status = READ[language]
    assert alert.startswith(first)
    assert next_line == want_next
    assert cases == want_cases
    assert case == want_case
    assert status == want_status


def test_moderators_who_read_english_get_english_replies_from_a_german_room(write):
    alert, next_line, cases, case, status = what_moderators_read(
        engine_for(room_policy(write, "de", moderators_language="en")))
    assert (alert[:len(READ["en"][0])], next_line, cases, case, status) == READ["en"]


def test_a_german_room_without_moderators_language_answers_its_moderators_in_german(write):
    _, next_line, cases, _, _ = what_moderators_read(engine_for(room_policy(write, "de")))
    assert (next_line, cases) == READ["de"][1:3]


def test_the_grouped_next_line_and_command_refusals_follow_the_moderators(write):
    engine = engine_for(room_policy(write, "en", moderators_language="es"))
    text = lambda command: only(engine.handle(say(command, room=MODS, power=100)), A.PostNotice).text  # noqa: E731
    assert text("!cases") == "No hay casos abiertos."
    assert text("!case") == "¿Qué caso? Pon su id, p. ej. !case abc234."
    assert text("!case zzz") == "Aquí no hay ningún caso 'zzz'. !cases lista los abiertos."
    words = engine.rooms[("test", "!group:test")].policy.words
    from gateway.core.commands import group_commands
    assert group_commands(engine.rooms[("test", "!group:test")].policy) == (
        "Siguiente: !cases los lista · !case ID · !ack ID · !close ID RESULTADO; "
        f"RESULTADO es uno de: {OUTCOMES}")
    assert (words.age(45), words.age(720), words.age(3 * 3600), words.age(2 * 86400)) == ("45 s", "12 min", "3 h", "2 d")


def test_the_weekly_digest_is_written_in_the_moderators_language(write):
    words = room_policy(write, "en", moderators_language="fr").words
    text = digest_text([], [], Trouble(), until=1_800_000_000.0, room_names=["Salon"], networks_down=["irc"],
                       words=words)
    assert text.splitlines() == [
        "Bilan sécurité de la semaine pour Salon : du 08/01 08:00 au 15/01 08:00 UTC.",
        "- Cas : 0 ; messages privés envoyés 0, non remis 0 ; retraits 0.",
        "- Délai médian de prise en charge : - (0 sur 0 pris en charge).",
        "- Rappels ouverts : aucun.",
        "- Problèmes réseau : le réseau irc n'est pas connecté en ce moment.",
        "Aucun texte de message ni aucun nom ici, seulement des identifiants de cas. "
        "`gateway report` montre le dernier mois."]
    english = digest_text([], [], Trouble(), until=1_800_000_000.0, room_names=["Room"], networks_down=[])
    assert english.splitlines()[0] == "Weekly safety digest for Room: Fri 08 Jan 08:00 to Fri 15 Jan 08:00 UTC."


@pytest.fixture
def shipped(tmp_path):
    """A copy of the shipped policies and language files, to break one of them."""
    copy = tmp_path / "shipped"
    shutil.copytree(SHIPPED_DIR, copy, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    return copy


def test_a_language_file_missing_a_moderator_text_or_changing_its_fields_is_refused(write, shipped):
    de = shipped / "templates" / "de.yaml"
    text = de.read_text()
    text = text.replace('  cases_none: "Keine offenen Fälle."\n', "")
    text = text.replace('  closed: "Fall {case} geschlossen ({outcome}).', '  closed: "Fall {case} geschlossen ({result}).')
    de.write_text(text)
    path = write("peer.yaml", """
        extends: default
        name: peer
        language: en
        moderators:
          room: "!mods:test"
          language: de
        """)
    with pytest.raises(ConfigErrors) as err:
        PolicyLoader(shipped_dir=shipped).load(str(path))
    said = str(err.value)
    assert "de.yaml" in said and "moderator_text: missing 'cases_none' (English: 'No open cases.')" in said
    assert "moderator_text.closed: placeholders ['case', 'result'], English has ['case', 'outcome']" in said
