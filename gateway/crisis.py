"""The crisis-line directory: which free line and which emergency number to give a person, by region.

Why a separate, sourced file: a wrong number is dangerous. Every line carries the page it was taken from
and the date it was last verified, so ``gateway check`` can warn when an entry has gone stale, and
operators can re-check the regions they serve. Short codes are kept as local dial strings ("116 123").
"""

from __future__ import annotations

import datetime as dt
import difflib
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .validate import MISSING, Checker
from .yamlsrc import load_located

__all__ = ["CrisisLine", "Region", "CrisisDirectory", "ISO_REGIONS", "INTERNATIONAL", "load_directory", "region_hint"]

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

SHIPPED_DIRECTORY = Path(__file__).resolve().parent.parent / "policies" / "crisis_lines.yaml"


@dataclass(frozen=True)
class CrisisLine:
    service: str
    phone: str | None
    text: str | None
    chat: str | None
    hours: str
    source: str
    verified: dt.date

    def render(self) -> str:
        ways = []
        if self.phone:
            ways.append(f"call {self.phone}")
        if self.text:
            ways.append(self.text)
        if self.chat:
            ways.append(f"chat at {self.chat}")
        return f"- {self.service}: {', '.join(ways)} ({self.hours})"


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

    def lines_text(self, region: str) -> str:
        """The crisis lines block for a message; falls back to the international directory."""
        entry = self.regions.get(region)
        if entry is None:
            return self.international_text
        return "\n".join(line.render() for line in entry.lines)

    def lines_inline(self, region: str) -> str:
        """The same lines on one line (for compact messages, IRC): "Samaritans: call 116 123 (24/7); ..."."""
        entry = self.regions.get(region)
        if entry is None:
            return self.international_text
        return "; ".join(line.render()[2:] for line in entry.lines)

    def emergency(self, region: str) -> str:
        entry = self.regions.get(region)
        return entry.emergency if entry else self.international_emergency

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
