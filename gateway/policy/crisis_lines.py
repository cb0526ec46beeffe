"""The crisis-line directory: which free line and which emergency number to give a person, by region.

Why a separate, sourced file: a wrong number is dangerous. Every line carries the page it was taken from
and the date it was last verified, so ``gateway check`` can warn when an entry has gone stale, and
operators can re-check the regions they serve. Short codes are kept as local dial strings ("116 123").
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..yamlfiles.checker import MISSING, Checker
from ..yamlfiles.located import load_located
from .shipped import CRISIS_DIRECTORY

__all__ = ["LABELS", "CrisisLine", "Region", "CrisisDirectory", "ISO_REGIONS", "INTERNATIONAL", "load_directory", "region_hint"]

INTERNATIONAL = "INTL"

# ISO 3166-1 alpha-2, plus XK (Kosovo, in common use).
ISO_REGIONS = frozenset("""
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV
BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES
ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE
IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY
MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU
NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM
SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE
VG VI VN VU WF WS XK YE YT ZA ZM ZW
""".split())

SHIPPED_DIRECTORY = CRISIS_DIRECTORY


@dataclass(frozen=True)
class CrisisLine:
    service: str
    phone: str | None
    text: str | None
    chat: str | None
    hours: str
    source: str
    verified: dt.date

    def render(self, language: str = "en") -> str:
        """The line as a person reads it, its labels ("call", "free", "24/7", "or") in ``language``; the
        service's name, numbers and addresses as the directory has them."""
        words = LABELS.get(language, LABELS["en"])
        ways = []
        if self.phone:
            ways.append(words["call"].format(_or(self.phone, words)))
        if self.text:
            ways.append(_text_way(self.text, words))
        if self.chat:
            ways.append(words["chat"].format(self.chat))
        hours = ", ".join(_hours(part, words) for part in self.hours.split(", "))
        return f"- {_translated(self.service, words)}{words['colon']}{', '.join(ways)} ({hours})"


# The words the directory's entries are written with, by language (``CrisisLine.render``): a Spanish room in
# the US reads the US lines in Spanish. An entry's fragment not listed here is shown as the directory has it;
# a language not listed reads English labels. A new fragment in policies/crisis_lines.yaml (a new "hours"
# value) is added here for every language (tests/test_templates.py checks the shipped entries).
LABELS: dict[str, dict[str, str]] = {
    "en": {"call": "call {}", "chat": "chat at {}", "text": "text {}", "text_to": "text {} to {}", "or": "or",
           "colon": ": ", "option": "option", "see_hours": "see {} for hours", "chat 13h-3h": "chat 1 pm to 3 am",
           "international": "Find a free helpline in your country at {}",
           "your local emergency number": "your local emergency number"},
    "de": {"call": "Telefon {}", "chat": "Chat: {}", "text": "SMS an {}", "text_to": "SMS mit {} an {}",
           "or": "oder", "24/7": "rund um die Uhr", "free": "kostenlos", "daily until midnight": "täglich bis Mitternacht", "8-20h": "8 bis 20 Uhr",
           "not 24/7": "nicht rund um die Uhr", "not 24/7 every day": "nicht jeden Tag rund um die Uhr",
           "20 languages": "20 Sprachen", "(French)": "(Französisch)", "(Dutch)": "(Niederländisch)",
           "(Finnish)": "(Finnisch)", "(under 35)": "(unter 35)",
           "colon": ": ", "option": "Option", "see_hours": "Zeiten auf {}",
           "24/7 by phone": "am Telefon rund um die Uhr", "chat 13h-3h": "Chat 13 bis 3 Uhr",
           "(national suicide prevention line)": "(Suizidprävention)",
           "(mental health line)": "(psychische Gesundheit)", "(Ministry of Health)": "(Gesundheitsministerium)",
           "(Minsa, mental health line)": "(Gesundheitsministerium, psychische Gesundheit)",
           "(Ministry of Health call centre, suicide prevention)": "(Gesundheitsministerium, Suizidprävention)",
           "(children and young people)": "(Kinder und Jugendliche)",
           "Ministry of Health line": "Hotline des Gesundheitsministeriums",
           "Suicide prevention line 109": "Suizidpräventions-Hotline 109",
           "international": "Ein kostenloses Hilfetelefon in deinem Land findest du unter {}",
           "your local emergency number": "die Notrufnummer deines Landes"},
    "fr": {"call": "appelle le {}", "chat": "chat : {}", "text": "SMS au {}", "text_to": "envoie {} par SMS au {}",
           "or": "ou", "24/7": "24h/24, 7j/7", "free": "gratuit", "daily until midnight": "tous les jours jusqu'à minuit", "8-20h": "de 8h à 20h",
           "not 24/7": "pas 24h/24", "not 24/7 every day": "pas 24h/24 tous les jours", "20 languages": "20 langues",
           "(French)": "(en français)", "(Dutch)": "(en néerlandais)", "(Finnish)": "(en finnois)",
           "(under 35)": "(moins de 35 ans)",
           "colon": " : ", "option": "option", "see_hours": "horaires sur {}",
           "24/7 by phone": "tél. 24h/24", "chat 13h-3h": "chat 13h-3h",
           "(national suicide prevention line)": "(prévention du suicide)",
           "(mental health line)": "(santé mentale)", "(Ministry of Health)": "(ministère de la Santé)",
           "(Minsa, mental health line)": "(ministère de la Santé, santé mentale)",
           "(Ministry of Health call centre, suicide prevention)": "(ministère de la Santé, prévention du suicide)",
           "(children and young people)": "(enfants et jeunes)",
           "Ministry of Health line": "Ligne du ministère de la Santé",
           "Suicide prevention line 109": "Ligne de prévention du suicide 109",
           "international": "Trouve une ligne d'écoute gratuite dans ton pays sur {}",
           "your local emergency number": "le numéro d'urgence de ton pays"},
    "es": {"call": "llama al {}", "chat": "chat: {}", "text": "SMS al {}", "text_to": "envía {} por SMS al {}",
           "or": "o", "24/7": "24 horas, todos los días", "free": "gratis", "daily until midnight": "todos los días hasta medianoche", "8-20h": "de 8 a 20 h",
           "not 24/7": "no 24 horas", "not 24/7 every day": "no 24 horas todos los días", "20 languages": "20 idiomas",
           "(French)": "(en francés)", "(Dutch)": "(en neerlandés)", "(Finnish)": "(en finés)",
           "(under 35)": "(menores de 35)",
           "colon": ": ", "option": "opción", "see_hours": "horario en {}",
           "24/7 by phone": "teléfono 24 h", "chat 13h-3h": "chat de 13 a 3 h",
           "(national suicide prevention line)": "(prevención del suicidio)",
           "(mental health line)": "(salud mental)", "(Ministry of Health)": "(Ministerio de Salud)",
           "(Minsa, mental health line)": "(Minsa, salud mental)",
           "(Ministry of Health call centre, suicide prevention)": "(Ministerio de Salud, prevención del suicidio)",
           "(children and young people)": "(niños y jóvenes)",
           "Ministry of Health line": "Línea del Ministerio de Salud",
           "Suicide prevention line 109": "Línea de prevención del suicidio 109",
           "international": "Encuentra una línea de ayuda gratuita en tu país en {}",
           "your local emergency number": "el número de emergencias de tu país"},
}


def _or(number: str, words: dict[str, str]) -> str:
    """ "0800 111 0 111 or 0800 111 0 222", "15 (or 112)", "113, option 5": the words in the reader's language."""
    return (number.replace(" or ", f" {words['or']} ").replace("(or ", f"({words['or']} ")
            .replace(", option ", f", {words['option']} "))


def _hours(part: str, words: dict[str, str]) -> str:
    """One part of an entry's hours ("24/7", "see 454545.lu for hours") in the reader's language."""
    seen = re.fullmatch(r"see (\S+) for hours", part)
    return words["see_hours"].format(seen.group(1)) if seen else words.get(part, part)


def _text_way(text: str, words: dict[str, str]) -> str:
    """ "text 988" and "text HOME to 741741" in the reader's language; anything else ("WhatsApp ...") as is."""
    parts = text.split()
    if len(parts) == 4 and parts[0] == "text" and parts[2] == "to":
        return words["text_to"].format(parts[1], parts[3])
    if len(parts) == 2 and parts[0] == "text":
        return words["text"].format(parts[1])
    return text


def _translated(service: str, words: dict[str, str]) -> str:
    """A service's name with its parenthesised note ("(French)", "(under 35)") in the reader's language; a
    name that only describes the service ("Ministry of Health line") is said in it whole."""
    if service in words:
        return words[service]
    for fragment, said in words.items():
        if fragment.startswith("(") and fragment in service:
            service = service.replace(fragment, said)
    return service


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    emergency: str
    lines: tuple[CrisisLine, ...]


@dataclass(frozen=True)
class CrisisDirectory:
    regions: dict[str, Region]
    international_text: str
    international_emergency: str
    source_file: str

    def lines_text(self, region: str, language: str = "en") -> str:
        """The crisis lines block for a message, in the reader's language; falls back to the international
        directory."""
        entry = self.regions.get(region)
        if entry is None:
            return self._international(language)
        return "\n".join(line.render(language) for line in entry.lines)

    def lines_inline(self, region: str, language: str = "en") -> str:
        """The same lines on one line (for compact messages, IRC): "Samaritans: call 116 123 (24/7); ..."."""
        entry = self.regions.get(region)
        if entry is None:
            return self._international(language)
        return "; ".join(line.render(language)[2:] for line in entry.lines)

    def emergency(self, region: str, language: str = "en") -> str:
        words = LABELS.get(language, LABELS["en"])
        entry = self.regions.get(region)
        if entry is None:
            return words.get(self.international_emergency, self.international_emergency)
        return _or(entry.emergency, words)

    def _international(self, language: str) -> str:
        """The international fallback in the reader's language, when it is the shipped sentence with its address."""
        words = LABELS.get(language, LABELS["en"])
        head, _, url = self.international_text.rpartition(" ")
        if LABELS["en"]["international"].format(url) == self.international_text:
            return words["international"].format(url)
        return self.international_text

    def stale(self, today: dt.date, max_age_days: int = 365) -> list[tuple[str, CrisisLine]]:
        return [(code, line) for code, r in sorted(self.regions.items()) for line in r.lines
                if (today - line.verified).days > max_age_days]


_LINE_KEYS = ("service", "phone", "text", "chat", "hours", "source", "verified")


def load_directory(path: str | Path = SHIPPED_DIRECTORY) -> CrisisDirectory:
    """Load and validate the directory; raise ``ConfigErrors`` naming every bad entry."""
    doc = load_located(path)
    c = Checker(doc)
    top = c.mapping((), doc.value, required=("version", "international", "regions"))
    regions: dict[str, Region] = {}
    intl_text, intl_emergency = "", ""
    if top is not None:
        intl = c.mapping(("international",), top.get("international"), required=("text", "emergency"))
        if intl is not None:
            intl_text = c.string(("international", "text"), intl.get("text"))
            intl_emergency = c.string(("international", "emergency"), intl.get("emergency"))
        entries = c.mapping(("regions",), top.get("regions"), any_keys=True) or {}
        for code, entry in entries.items():
            path = ("regions", code)
            if code not in ISO_REGIONS:
                c.error(path, f"unknown region code {code!r} (use ISO 3166-1 alpha-2, e.g. GB){region_hint(code)}",
                        key=True)
                continue
            e = c.mapping(path, entry, required=("name", "emergency", "lines"))
            if e is None:
                continue
            lines = []
            raw_lines = e.get("lines")
            if not isinstance(raw_lines, list) or not raw_lines:
                c.error(path + ("lines",), "expected a non-empty list of lines")
                raw_lines = []
            for i, raw in enumerate(raw_lines):
                lp = path + ("lines", i)
                ln = c.mapping(lp, raw, required=("service", "hours", "source", "verified"),
                               optional=("phone", "text", "chat"))
                if ln is None:
                    continue
                verified = ln.get("verified")
                if not isinstance(verified, dt.date):
                    c.error(lp + ("verified",), "expected a date like 2026-11-01")
                    continue
                if not any(ln.get(k) for k in ("phone", "text", "chat")):
                    c.error(lp, "a line needs at least one of phone, text or chat")
                    continue
                vals = {k: (c.string(lp + (k,), ln[k]) if ln.get(k) is not None else None)
                        for k in _LINE_KEYS if k != "verified"}
                if any(v is MISSING for v in vals.values()):
                    continue
                lines.append(CrisisLine(verified=verified, **vals))
            name = c.string(path + ("name",), e.get("name"))
            emergency = c.string(path + ("emergency",), str(e.get("emergency", "")))
            if MISSING not in (name, emergency) and lines:
                regions[code] = Region(code, name, emergency, tuple(lines))
    c.raise_if_errors()
    return CrisisDirectory(regions, intl_text, intl_emergency, str(path))


# Region names people write that are not ISO 3166-1 codes.
_REGION_ALIASES = {"UK": "GB", "EN": "GB", "ENGLAND": "GB", "SCOTLAND": "GB", "WALES": "GB", "USA": "US",
                   "AMERICA": "US", "EL": "GR", "INTERNATIONAL": "INTL", "WORLD": "INTL", "EU": "INTL"}

# The countries of the shipped directory by name, in English and in their own languages, folded as
# ``_fold`` does (lower case, no accents, no spaces or punctuation): ``España`` and ``espana`` are one.
_COUNTRY_NAMES = {
    "US": "unitedstates unitedstatesofamerica usa america", "CA": "canada",
    "GB": "unitedkingdom greatbritain britain england scotland wales northernireland cymru alba",
    "IE": "ireland eire republicofireland", "AU": "australia", "NZ": "newzealand aotearoa",
    "DE": "germany deutschland", "AT": "austria osterreich oesterreich", "FR": "france",
    "CH": "switzerland schweiz suisse svizzera svizra", "BE": "belgium belgique belgie belgien",
    "NL": "netherlands thenetherlands nederland holland", "IT": "italy italia", "ES": "spain espana",
    "SE": "sweden sverige", "NO": "norway norge noreg", "DK": "denmark danmark", "FI": "finland suomi",
    "PL": "poland polska", "JP": "japan nippon nihon 日本", "KR": "southkorea korea republicofkorea 대한민국",
    "IN": "india bharat भारत", "SG": "singapore singapura", "HK": "hongkong 香港", "PH": "philippines pilipinas",
    "BR": "brazil brasil", "MX": "mexico", "AR": "argentina", "ZA": "southafrica suidafrika",
    "LU": "luxembourg luxemburg letzebuerg", "LI": "liechtenstein", "CO": "colombia", "CL": "chile",
    "PE": "peru", "UY": "uruguay", "EC": "ecuador", "PY": "paraguay paraguai", "PA": "panama",
    "HN": "honduras", "DO": "dominicanrepublic republicadominicana", "PR": "puertorico", "CU": "cuba",
    "CI": "ivorycoast cotedivoire", "HT": "haiti ayiti", "RE": "reunion lareunion", "GP": "guadeloupe",
    "MF": "saintmartin", "BL": "saintbarthelemy saintbarth", "MQ": "martinique",
    "GF": "frenchguiana guyane guyanefrancaise",
    # Not in the directory: named so that a near name is not taken for one that is ("Chine", French for
    # China, for Chile; Guyana for French Guiana; Sint Maarten for Saint Martin).
    "CN": "china chine zhongguo 中国", "GY": "guyana", "SX": "sintmaarten",
}


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if ch.isalnum())


_BY_NAME = {_fold(name): code for code, names in _COUNTRY_NAMES.items() for name in names.split()}


def region_hint(region: Any) -> str:
    """A did-you-mean for a region that is not a code: ``UK`` -> ``GB``, ``gb`` -> ``GB``, a country's
    name in English or its own language (``Germany``, ``Deutschland``) -> ``DE``, ``Germnay`` -> ``DE``."""
    if not isinstance(region, str):
        return ""
    up = region.strip().upper()
    folded = _fold(region)
    near = difflib.get_close_matches(folded, list(_BY_NAME), n=1, cutoff=0.8) if len(folded) > 3 else []
    guess = (_REGION_ALIASES.get(up) or (up if up in ISO_REGIONS or up == INTERNATIONAL else None)
             or _BY_NAME.get(folded) or (_BY_NAME[near[0]] if near else None))
    return f" (did you mean '{guess}'?)" if guess and guess != region else ""
