"""What an extending policy changes against the policy it extends, and which changes weaken detection.

Why: a room policy is usually a copy of an example with a few edits. Lists extend what they inherit, so
a plain edit adds; but ``remove:``/``replace:``, a rule set to ``null``, a model switched off or a
window shortened make the room less safe, and ``gateway check`` must say so in words a moderator can
act on, not leave it to be found after someone at risk was missed.
"""

from __future__ import annotations

from dataclasses import dataclass

from .model import Policy, Rule

__all__ = ["Change", "compare"]


@dataclass(frozen=True)
class Change:
    weakens: bool  # True: less is detected or less is done than in the parent
    text: str

    def __str__(self) -> str:
        return ("warning: " if self.weakens else "") + self.text


def _n(rule: Rule) -> str:
    return f"{len(rule.phrases)} phrase(s), {len(rule.regexes)} regex(es)"


def _rules(parent: tuple[Rule, ...], child: tuple[Rule, ...], where: str) -> list[Change]:
    out: list[Change] = []
    before = {r.id: r for r in parent}
    after = {r.id: r for r in child}
    for rid in before.keys() - after.keys():
        out.append(Change(True, f"{where}: rule {rid} dropped ({_n(before[rid])})"))
    for rid in after.keys() - before.keys():
        out.append(Change(False, f"{where}: rule {rid} added ({_n(after[rid])})"))
    for rid in before.keys() & after.keys():
        for kind in ("phrases", "regexes"):
            old, new = set(getattr(before[rid], kind)), set(getattr(after[rid], kind))
            if old - new:
                out.append(Change(True, f"{where}: rule {rid}: {len(old - new)} of {len(old)} inherited "
                                        f"{kind} removed"))
            if new - old:
                out.append(Change(False, f"{where}: rule {rid}: {len(new - old)} {kind} added"))  # noqa: E501
    return out


def _exceptions(name: str, old: tuple[str, ...], new: tuple[str, ...]) -> list[Change]:
    """Exceptions only ever lower or drop a match: more of them detect less, fewer detect more."""
    added, removed = set(new) - set(old), set(old) - set(new)
    out = []
    if added:
        out.append(Change(False, f"{name}: {len(added)} added (each can lower or drop a match: check they "
                                 f"cannot hide a real risk)"))
    if removed:
        out.append(Change(False, f"{name}: {len(removed)} of {len(old)} inherited removed (more is detected)"))
    return out


def _composition(parent, child) -> list[Change]:
    """``compose:``: a combination dropped, or phrases taken from a part, detects less (a guard part is
    the other way round: more of it drops more)."""
    out: list[Change] = []
    before = {c.id: c for c in parent.combinations}
    after = {c.id: c for c in child.combinations}
    for cid in sorted(before.keys() - after.keys()):
        out.append(Change(True, f"compose.combinations: {cid} dropped"))
    for cid in sorted(after.keys() - before.keys()):
        out.append(Change(False, f"compose.combinations: {cid} added"))
    for name in sorted(parent.parts.keys() & child.parts.keys()):
        p, c = parent.parts[name], child.parts[name]
        for kind in ("phrases", "regexes"):
            removed, added = set(getattr(p, kind)) - set(getattr(c, kind)), set(getattr(c, kind)) - set(getattr(p, kind))
            guard = name in child.guard
            if removed:
                out.append(Change(not guard, f"compose.parts.{name}: {len(removed)} of {len(getattr(p, kind))} "
                                             f"inherited {kind} removed"))
            if added:
                out.append(Change(False, f"compose.parts.{name}: {len(added)} {kind} added"
                                         + (" (a guard: each can drop or cap a match)" if guard else "")))
    for name in sorted(parent.guard.keys() - child.guard.keys()):
        out.append(Change(False, f"compose.guard: {name} removed (more is detected)"))
    for name in sorted(child.guard.keys() - parent.guard.keys()):
        out.append(Change(False, f"compose.guard: {name} added (it can drop or cap a match)"))
    return out


def compare(parent: Policy, child: Policy) -> list[Change]:
    """Every difference that matters for detection and action, weakening ones first."""
    out: list[Change] = []
    for name in parent.tiers.keys() | child.tiers.keys():
        p, c = parent.tiers.get(name), child.tiers.get(name)
        if p is None or c is None:
            continue
        out += _rules(p.rules, c.rules, f"tiers.{name}")
        out += _exceptions(f"tiers.{name}.exceptions.idioms", p.idioms, c.idioms)
        out += _exceptions(f"tiers.{name}.exceptions.negations", p.negations, c.negations)
        if p.action.remove and not c.action.remove:
            out.append(Change(True, f"tiers.{name}.action.remove: no longer removes the person"))
        if p.action.message and not c.action.message:
            out.append(Change(True, f"tiers.{name}.action.message: no private message any more"))
    out += _rules(parent.abuse, child.abuse, "abuse")
    out += _rules(parent.third_party, child.third_party, "third_party")
    out += _rules(parent.third_party_reports, child.third_party_reports, "third_party.reports")
    for key in ("helping", "people"):  # words that make risk someone else's
        out += _exceptions(f"third_party.{key}", getattr(parent, f"third_party_{key}"),
                           getattr(child, f"third_party_{key}"))
    for key in ("idioms", "negations", "reported", "jokes", "recovery", "past", "relapse", "supportive",
                "concealed"):
        out += _exceptions(f"exceptions.{key}", getattr(parent, key), getattr(child, key))
    out += _composition(parent.compose, child.compose)
    pm, cm = parent.model, child.model
    if pm.enabled and not cm.enabled:
        out.append(Change(True, "model.enabled: the learned model is off: phrasing no rule lists is missed"))
    elif cm.enabled and pm.enabled and cm.concern is not None and (pm.concern is None or cm.concern > pm.concern):
        out.append(Change(True, f"model.concern: raised to {cm.concern:g} (fewer messages reach concern)"))
    if pm.enabled and cm.enabled and pm.chat.enabled and not cm.chat.enabled:
        out.append(Change(True, "model.chat.enabled: the chat-lines score is off: chat phrasing no rule lists is "
                                "read by the Reddit-trained model only"))
    elif pm.enabled and cm.enabled and pm.chat.enabled and cm.chat.concern is not None and (
            pm.chat.concern is None or cm.chat.concern > pm.chat.concern):
        out.append(Change(True, f"model.chat.concern: raised to {cm.chat.concern:g} (fewer messages reach concern)"))
    if parent.context.window and not child.context.window:
        out.append(Change(True, "context.window: a person's recent messages are not read (a farewell after "
                                "earlier risk is no longer imminent)"))
    elif parent.context.window and child.context.window < parent.context.window:
        out.append(Change(True, f"context.window: shortened to {child.context.window} s"))
    lost = set(parent.context.followups) - set(child.context.followups)
    if lost:
        out.append(Change(True, f"context.followups: {len(lost)} removed (a line that carries out earlier risk "
                                "is then read alone)"))
    dropped = set(parent.context.farewell_rules) - set(child.context.farewell_rules)
    if dropped:
        out.append(Change(True, f"context.farewell_rules: {', '.join(sorted(dropped))} removed"))
    if parent.mode == "act" and child.mode == "observe":
        out.append(Change(False, "mode: observe (detects and alerts, acts on nobody)"))
    return sorted(out, key=lambda ch: not ch.weakens)
