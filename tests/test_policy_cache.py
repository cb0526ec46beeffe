"""What is kept between policy loads, and what must never be: policies with the same rules share one compiled
copy (gateway/detection/rules.py), and the loader's cache, which the test suite turns on
(gateway/policy/loader.py), hands back a policy only when every file and lookup it came from is unchanged."""

from __future__ import annotations

import dataclasses

from gateway.detection import detector_for
from gateway.policy import loader as policy_loader
from gateway.policy.loader import PolicyLoader

ROOM = "extends: default\nname: {name}\nregion: GB\nmoderators:\n  room: \"!mods:test\"\n"
OWN_RULE = "tiers:\n  concern:\n    rules:\n      {rule}:\n        phrases: [\"{phrase}\"]\n"


def test_rooms_with_the_default_rules_share_one_compiled_copy_and_a_rule_of_its_own_gets_its_own(tmp_path,
                                                                                                default_policy):
    (tmp_path / "a.yaml").write_text(ROOM.format(name="a"), encoding="utf-8")
    (tmp_path / "b.yaml").write_text(ROOM.format(name="b").replace("GB", "IE"), encoding="utf-8")
    (tmp_path / "c.yaml").write_text(ROOM.format(name="c") + OWN_RULE.format(rule="quokka", phrase="quokka zebra"),
                                     encoding="utf-8")
    a, b, c = (PolicyLoader([tmp_path]).load(n) for n in "abc")
    shipped = detector_for(default_policy).own.rules
    assert detector_for(a).own.rules is shipped and detector_for(b).own.rules is shipped
    assert detector_for(c).own.rules is not shipped
    assert detector_for(c).detect("quokka zebra").tier == "concern"
    assert detector_for(a).detect("quokka zebra").tier == "none"
    # a tier that no longer removes changes what the composer may do: not the same rules
    calm = dataclasses.replace(default_policy, _detector=None, tiers={
        name: dataclasses.replace(t, action=dataclasses.replace(t.action, remove=False))
        for name, t in default_policy.tiers.items()})
    assert detector_for(calm).own.rules is not shipped


def test_the_loader_cache_hands_back_a_policy_only_while_its_files_and_lookups_are_unchanged(tmp_path,
                                                                                             monkeypatch):
    monkeypatch.setattr(policy_loader, "_CACHE_SIZE", 8)
    room = tmp_path / "room.yaml"
    room.write_text(ROOM.format(name="room"), encoding="utf-8")
    first = PolicyLoader([tmp_path]).load("room")
    assert PolicyLoader([tmp_path]).load("room") is first  # same bytes, same place: the same frozen policy
    room.write_text(ROOM.format(name="moor"), encoding="utf-8")  # the same size, likely the same clock tick
    second = PolicyLoader([tmp_path]).load("room")
    assert second.name == "moor"
    # a parent found first in another place changes the chain, although no file read before changed
    room.write_text(ROOM.format(name="moor").replace("extends: default", "extends: parent"), encoding="utf-8")
    (tmp_path / "parent.yaml").write_text("extends: default\nname: parent\nregion: FR\nmoderators:\n"
                                          "  room: \"!mods:test\"\n", encoding="utf-8")
    assert PolicyLoader([tmp_path]).load("room").region == "GB"  # the room's own region wins
    (tmp_path / "parent.yaml").write_text("extends: default\nname: parent\nlanguage: de\nmoderators:\n"
                                          "  room: \"!mods:test\"\n", encoding="utf-8")
    assert PolicyLoader([tmp_path]).load("room").language == "de"
    # another directory searched first: its own room.yaml is the one found
    (tmp_path / "first").mkdir()
    (tmp_path / "first" / "room.yaml").write_text(ROOM.format(name="found-first"), encoding="utf-8")
    assert PolicyLoader([tmp_path / "first", tmp_path]).load("room").name == "found-first"
    assert PolicyLoader([tmp_path]).load("room").name == "moor"


def test_the_loader_cache_is_off_outside_the_tests():
    """A gateway loads once and at !reload, which must read the files again: the cache only holds memory there."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", "from gateway.policy import loader; print(loader._CACHE_SIZE)"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0"
