"""Room policies, as the rest of the gateway sees them: what a room's guidelines say, what each risk tier
does, who the moderators are. Plain frozen data; reading, merging and validating the YAML files is
``loader.py``'s job, and compiling a policy's detection is ``gateway.detection``'s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .moderator_text import ModeratorText, english
from .shipped import SHIPPED_DIR
from ..yamlfiles.located import Mark

__all__ = [
    "TIERS", "ALERT_PRIORITIES", "TEMPLATE_FIELDS", "MODERATOR_TEMPLATES", "ASKED_TEMPLATES", "Rule", "TierAction", "Tier", "Guidelines",
    "Moderators", "Policy", "SHIPPED_DIR", "Limits", "GatewayLimits", "ModelSettings", "Context", "Digest",
    "WEEKDAYS", "Part", "Combination", "Composition",
]

TIERS = ("concern", "high", "imminent")  # lowest to highest
ALERT_PRIORITIES = ("none", "low", "normal", "high", "urgent")

# Every placeholder a template may use; the engine supplies all of them on every render.
TEMPLATE_FIELDS = frozenset({
    "room", "network", "user", "prefix", "crisis_lines", "crisis_lines_inline", "emergency", "removal_note", "case", "tier", "rules",
    "dm_status", "removal_status", "link", "guidance", "priority", "mode_note", "commands", "age",
    "count", "cases", "change", "command", "rooms",
})
# Templates the moderators read (in ``moderators.language``); every other one is read by the person or the
# group room (in the policy's ``language``). ``help`` is read by whoever asked, so it follows the room it is
# asked in (``Policy.render(..., moderators=...)``).
MODERATOR_TEMPLATES = frozenset({
    "alert", "alert_update", "escalation", "escalation_group", "abuse_alert", "raid_alert", "raid_update",
    "talk_flood_alert", "third_party_alert", "followup", "talk_alert",
})
# Templates read by whoever asked, in the moderators' language in their room and the room's elsewhere: ``help``
# and the lines it lists for everyone (``usage_NAME``; a moderator's commands are listed in the moderators'
# language, from ``moderator_text:``: gateway/policy/moderator_text.py).
ASKED_TEMPLATES = frozenset({"help", "usage_help", "usage_resources"})
# Templates every policy needs, beyond those its tiers name.
REQUIRED_TEMPLATES = ("removal_reason", "removal_note", "alert", "followup", "resources", "greeting",
                      "help", "escalation", "private_reply", "talk_ack", "talk_alert", "alert_update", "abuse_alert",
                      "crisis_dm_again", "raid_alert", "raid_update", "escalation_group", "talk_flood_alert",
                      "third_party_dm", "third_party_alert", "command_for_moderators",
                      "command_in_moderators_room", "usage_help", "usage_resources", "which_room", "talk_no_room")



@dataclass(frozen=True)
class Rule:
    id: str  # qualified: "imminent.took_pills"
    tier: str
    phrases: tuple[str, ...]  # normalised
    regexes: tuple[str, ...]  # as written; matched by RE2 against the normalised text
    message: str | None = None  # a template for cases found by this rule alone (self-harm: no suicide talk)


@dataclass(frozen=True)
class TierAction:
    message: str | None  # template name for the private message, or None for no message
    remove: bool
    alert: str  # one of ALERT_PRIORITIES
    cooldown: int  # seconds before the same person is acted on again at this tier or below
    if_message_fails: str  # "remove" (remove anyway) or "keep" (keep them, escalate to moderators)
    redact: bool = False  # also remove the at-risk message from the group room (after the DM outcome)
    ban_for: int | None = None  # IRC: ban for this long with the removal, lifted by the bot itself


@dataclass(frozen=True)
class Tier:
    name: str
    rules: tuple[Rule, ...]
    idioms: tuple[str, ...]  # normalised; tier-specific, on top of the policy-wide ones
    negations: tuple[str, ...]
    action: TierAction


@dataclass(frozen=True)
class Guidelines:
    text: str | None
    pin: bool
    repost_every: int | None
    topic: str | None
    greet_on_join: bool
    greet_grace: int


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class Digest:
    """The weekly digest in the moderators' room: on by default, Monday 09:00 UTC."""

    enabled: bool = True
    day: int = 0  # 0 Monday ... 6 Sunday
    hour: int = 9  # UTC


@dataclass(frozen=True)
class Moderators:
    room: str | None
    network: str | None  # None: the network of the room the incident happened in
    power_level: int
    accounts: tuple[str, ...]
    guidance: str
    # The moderators' room must be invite-only (Matrix join rule not public; IRC +i or +s) and, for an
    # encrypted watched room, encrypted: alerts name the person at risk. These let an operator accept
    # an open or an unencrypted room on purpose; start-up then warns loudly instead of refusing.
    allow_open_room: bool = False
    allow_unencrypted_room: bool = False
    # The language the moderators read alerts and command replies in; None: the room's (``Policy.language``).
    # Set on the policy, beside the moderators' room and guidance it already names: a German room whose
    # moderators read English gets ``moderators: {language: en}`` (one line in a policy that extends).
    language: str | None = None


@dataclass(frozen=True)
class Context:
    """A person's recent detections in a room (tier and time only, in memory): "I can't do this anymore"
    then "goodbye everyone, thanks for everything" is imminent although each alone is not."""

    window: int | None = 900
    max_people: int = 10_000
    farewell_rules: tuple[str, ...] = ("high.farewell",)
    # regexes over a whole folded line that alone say nothing ("taking them now", "doing it at 11") but,
    # after the same person's risk within the window, are the act or plan told before, now: imminent
    followups: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChatModelSettings:
    """A second learned score beside the model (``model.chat``): English's model of our own chat lines
    (``risk-en-chat.bin``, ``train_model_lang.py``), read only on messages of at most ``max_words`` words
    (chat length: one window; a long post is left to the main model). Concern only, never high, never a removal.
    ``concern`` ``None``: the threshold calibrated when the file was trained."""

    enabled: bool = False
    file: str = "risk-en-chat.bin"
    concern: float | None = None
    max_words: int = 60


@dataclass(frozen=True)
class ModelSettings:
    """The learned risk score (``gateway/detection/model.py``): on or off, and the score from which a message
    counts as concern or high. ``None``: the thresholds calibrated when the shipped model was trained.
    The model never makes a message imminent: removal stays with the rules, or with ``imminence`` where a policy
    names that file (a line the rules already hold at risk, raised by a strict threshold; off by default)."""

    enabled: bool = False
    concern: float | None = None
    high: float | None = None
    file: str = "risk-en.bin"  # which shipped model (gateway/detection/models/): each language learned its own
    chat: ChatModelSettings = ChatModelSettings()  # a second score for chat-length messages (off unless set)
    # an imminence score (``risk-en-imminent.bin``, ``gateway/detection/imminence.py``): raises to imminent a line the
    # rules hold at concern or high as the writer's own present risk, above the threshold in its file; None: off
    imminence: str | None = None


@dataclass(frozen=True)
class Escalation:
    repeat_after: int | None  # repeat an unacknowledged alert after this long
    widen_after: int | None  # then mention every moderator after this long
    min_priority: str  # alerts below this priority are not escalated


@dataclass(frozen=True)
class Limits:
    """Budgets against raids and floods (sock puppets), all counted within ``window``.

    Beyond ``cases_per_room`` cases in one room, that room is treated as raided: a case whose line is like
    the raid's (gateway/core/raids.py) is not removed automatically, the moderators get one raid alert (then
    one update per window) instead of an alert per such case, and their crisis messages go on up to
    ``private_messages_per_room``; a case whose line is unlike the raid's is handled as on a quiet day,
    up to as many again. ``mention_all_every``
    bounds the @room pings of escalations; ``replies_per_person`` bounds the replies and refusals one
    non-moderator can draw from the bot."""

    window: int = 600
    cases_per_room: int = 5
    private_messages_per_room: int = 20
    mention_all_every: int = 1800
    replies_per_person: int = 3


@dataclass(frozen=True)
class GatewayLimits:
    """Budgets across every room of one gateway (config file ``limits:``), counted within ``window``: a
    raid spread over many rooms is caught by ``cases`` even when no one room passes its own limit."""

    window: int = 600
    cases: int = 30  # more cases than this across the gateway: every room with a new case is raided
    private_messages: int = 60  # crisis messages across the gateway per window during a raid
    talk_requests: int = 5  # "talk" requests beyond this are listed in one alert per window


@dataclass(frozen=True)
class Part:
    """One part of an act or plan (``compose.parts``): phrases (normalised) and RE2 patterns."""

    phrases: tuple[str, ...] = ()
    regexes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Combination:
    """Parts that together make a tier (``compose.combinations``): each entry of ``parts`` is one part or
    alternatives ("dose|pronoun_dose"), all found within ``window`` words; none of ``unless`` near them."""

    id: str  # "imminent.compose.means_timing": the tier it gives, then its name
    tier: str
    parts: tuple[tuple[str, ...], ...]
    window: int
    unless: tuple[str, ...] = ()
    # looked for only where no other combination fired and no other match reached its tier: two signals of a
    # scene read as high where nothing more precise did ("in the woods with the rope ... bye")
    fallback: bool = False


@dataclass(frozen=True)
class Composition:
    """Imminence read from parts of an act or plan (``gateway/detection/compose.py``); empty: off.

    ``refer``: pronoun parts that, at most ``refer_window`` words after a means (one of the parts listed),
    count as that part, or as the part given ("tablets ... the lot of them" is a dose). ``guard``: parts
    that drop (``drop``; ``setting``: drop, but cap at high an act done beside them) or cap (a tier name) a
    combination, or a match of a removing tier's own rules,
    found within ``window`` words of it (a past told, a story, a question). The parts named ``self``,
    ``other``, ``someone`` and ``object_of`` say whose act it is. ``common``: parts too frequent to pick
    lines out of a batch (``Detector.detect_many``). An act or plan with a part in ``stands_alone`` (a means, a dose,
    a place: it says what it is) is dropped or capped only by guards within its own sentences, or in
    ``whole_message`` (a past told, a story or lyric framing); any other (a farewell, "end it tonight") is read
    with the sentences around it."""

    window: int = 12
    parts: dict[str, Part] = field(default_factory=dict)
    combinations: tuple[Combination, ...] = ()
    refer: dict[str, tuple[tuple[str, ...], str | None]] = field(default_factory=dict)  # pronoun -> (after, as)
    refer_window: int = 12
    guard: dict[str, str] = field(default_factory=dict)  # part -> "drop", "setting" or the tier it caps to
    common: frozenset[str] = frozenset()  # parts too frequent in ordinary chat to pick lines out of a batch
    whole_message: frozenset[str] = frozenset()  # guards that read the whole message; the others, their sentence
    stands_alone: frozenset[str] = frozenset()  # parts that make an act or plan its own sentence's (a means, a place)
    # parts that outweigh a guard word inside them, as a time or a farewell does (``compose.TIMES``): "geh ins bett und wach
    # nicht mehr auf" is no evening routine
    outweighs: frozenset[str] = frozenset()
    # part -> the English words (``compose.loanwords``) added to its phrases: not read in a line identified as English
    loanwords: dict[str, frozenset[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Policy:
    name: str
    file: str
    language: str
    region: str
    mode: str  # "act" or "observe"
    command_prefix: str
    followup_after: int | None
    guidelines: Guidelines
    moderators: Moderators
    tiers: dict[str, Tier]
    idioms: tuple[str, ...]
    negations: tuple[str, ...]
    negation_window: int
    templates: dict[str, str]  # in the room's language: what the person and the group room read
    # in ``moderators.language`` when it differs from the room's: MODERATOR_TEMPLATES and ASKED_TEMPLATES
    moderator_templates: dict[str, str] = field(default_factory=dict)
    # a case's private message and removal as alerts tell them, in the moderators' language (English: empty)
    statuses: dict[str, str] = field(default_factory=dict)
    # what the code writes for the moderators (``moderator_text:`` of that file; gateway/policy/moderator_text.py): empty: English
    moderator_text: dict[str, str] = field(default_factory=dict)
    reported: tuple[str, ...] = ()  # cues that a match is about someone else ("my friend said", "lyrics")
    reported_window: int = 6
    jokes: tuple[str, ...] = ()  # markers of joking hyperbole ("lol", "😂"): see gateway/detection/
    abuse: tuple[Rule, ...] = ()  # aimed at someone else ("kys"): a moderator alert, never a crisis DM
    abuse_alert: str = "normal"
    third_party: tuple[Rule, ...] = ()  # someone else at risk ("my friend wants to kill herself"): see detect
    third_party_alert: str = "high"
    # whose words (see gateway/detection/decision.py): someone told, texted or sent the writer something
    # ("my friend just texted me"); the writer asks how to help ("what do i do"); words naming someone else
    third_party_reports: tuple[Rule, ...] = ()
    third_party_helping: tuple[str, ...] = ()
    third_party_people: tuple[str, ...] = ()
    # told as past or recovered ("still here", "clean for"), past-time cues just before a match ("years ago",
    # "used to"), cues that it is back ("again", "lately") which cancel both, and words to someone else
    # ("please reach out", "you matter"): see gateway/detection/decision.py
    recovery: tuple[str, ...] = ()
    past: tuple[str, ...] = ()
    past_window: int = 3
    relapse: tuple[str, ...] = ()
    supportive: tuple[str, ...] = ()
    concealed: tuple[str, ...] = ()  # hidden from others ("so no one sees"): a joke marker is then a deflection
    escalation: Escalation = Escalation(900, 1800, "high")
    outreach_interval: int = 86400  # at most one crisis message per person in this time, across rooms
    limits: Limits = Limits()
    model: ModelSettings = ModelSettings()
    context: Context = Context()
    digest: Digest = Digest()
    compose: Composition = Composition()
    extends: str | None = None  # the file of the policy this one extends (for `gateway check`'s comparison)
    # where a rule (by id) or a key (``moderators.room``) was written, in this file or one it extends: so a
    # mistake found later (a room's shape, a rule that fires on everyday chat) is told at its line
    marks: dict[str, Mark] = field(default_factory=dict, repr=False, compare=False)
    _detector: Any = field(default=None, repr=False, compare=False)  # see gateway.detection.detector_for


    @property
    def words(self) -> "ModeratorText":
        """The text the code writes for this policy's moderators, in ``moderators.language`` (else the room's):
        ``policy.words("cases_none")``, ``policy.words.tier("imminent")``."""
        return ModeratorText(self.moderator_text) if self.moderator_text else english()

    def message_for(self, rules: tuple[str, ...], default: str) -> str:
        """The private message for a case: a rule's own template when every rule that found it names the
        same one (a self-harm case gets a message that does not talk about suicide), else the tier's."""
        by_id = {r.id: r.message for t in self.tiers.values() for r in t.rules}
        chosen = {by_id.get(rule) for rule in rules}
        return chosen.pop() if len(chosen) == 1 and None not in chosen else default

    def variant(self, template: str, network_type: str) -> str:
        """The template to use on a network of ``network_type``: ``NAME_irc`` on IRC if there is one
        (compact messages that fit the flood limit), else ``NAME``."""
        specific = f"{template}_{network_type}"
        return specific if specific in self.templates else template

    def render(self, template: str, moderators: bool | None = None, **values: str) -> str:
        """``template`` filled in, in the language of whoever reads it: the moderators' (``moderators.language``)
        for MODERATOR_TEMPLATES, or when ``moderators`` says so (``help`` in a moderators' room); else the
        room's."""
        if moderators is None:
            moderators = template in MODERATOR_TEMPLATES
        table = self.moderator_templates if moderators and template in self.moderator_templates else self.templates
        fields = {k: "" for k in TEMPLATE_FIELDS}
        fields.update(prefix=self.command_prefix, guidance=self.moderators.guidance)
        fields.update(values)
        return table[template].format_map(fields).strip()
