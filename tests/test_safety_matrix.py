"""Issue 14 on a real Synapse: what a person in the room sees when someone replies kindly, writes in an
emote or a notice, or is a moderator at risk. Each assertion failed before its fix."""

from __future__ import annotations


from .matrix_world import world  # noqa: F401  (a fixture)




def dm_invites(person) -> list[str]:
    return [r for r, evs in person.invites.items()
            if any(e["state_key"] == person.id and e["content"].get("is_direct") for e in evs)]


def membership(person, room, user) -> str | None:
    states = [e["content"].get("membership") for r, e in person.events
              if r == room and e.get("type") == "m.room.member" and e.get("state_key") == user]
    return states[-1] if states else None


async def test_a_kind_reply_an_emote_and_a_moderator_at_risk(world):
    """Finding 1 (reply fallback, moderator never removed) and finding 10 (emotes and notices read)."""
    gw = await world.start_gateway()
    kit, ana, mod = world.people["kit"], world.people["ana"], world.mod
    bot = world.bot.user_id
    risk = "i am going to kill myself tonight"

    # kit writes it as an emote (/me): read like any message
    kit_event = (await kit.client.room_send(world.group, "m.room.message",
                                            {"msgtype": "m.emote", "body": risk})).event_id
    # ana replies kindly, the way Element sends a reply: the fallback quotes kit's words
    reply = "please talk to us, we care about you"
    await ana.client.room_send(world.group, "m.room.message", {
        "msgtype": "m.text",
        "body": f"> <{kit.id}> {risk}\n\n{reply}",
        "format": "org.matrix.custom.html",
        "formatted_body": (f'<mx-reply><blockquote><a href="https://matrix.to/#/{world.group}/{kit_event}">In reply '
                           f'to</a> <a href="https://matrix.to/#/{kit.id}">{kit.id}</a><br>{risk}</blockquote>'
                           f"</mx-reply>{reply}"),
        "m.relates_to": {"m.in_reply_to": {"event_id": kit_event}},
    })
    # the moderator (room creator) writes something at risk, as a notice
    await mod.client.room_send(world.group, "m.room.message", {"msgtype": "m.notice", "body": "i took all my pills"})
    # events are handled in order: once ana's !help is answered, everything above was handled
    await ana.say(world.group, "!help")
    await ana.wait_for("the help reply", lambda: [m for m in ana.messages(world.group, bot)
                                                  if m["content"]["body"].startswith("Safety bot commands")])

    alerts = await mod.wait_for("two alerts", lambda: (lambda a: a if len(a) >= 2 else None)(
        [m["content"]["body"] for m in mod.messages(world.mods_room, bot) if "Case" in m["content"]["body"]]))
    about_kit = [a for a in alerts if kit.id in a]
    about_mod = [a for a in alerts if mod.id in a]
    assert len(about_kit) == 1 and "Removal: done" in about_kit[0]
    assert len(about_mod) == 1 and "never removes one" in about_mod[0]
    assert not [a for a in alerts if ana.id in a]  # no case opened on the kind replier

    # kit got the crisis message and is out; the moderator got it too and is still in
    await kit.wait_for("kit's DM invite", lambda: dm_invites(kit))
    await mod.wait_for("the moderator's DM invite", lambda: dm_invites(mod))
    await mod.wait_for("kit's removal", lambda: membership(mod, world.group, kit.id) == "leave")
    await ana.sync()
    assert dm_invites(ana) == []  # ana got no crisis message
    for person in (ana, mod):  # both still in the room, as the server says
        state = await ana.client.room_get_state_event(world.group, "m.room.member", person.id)
        assert state.content["membership"] == "join"
    subjects = {r["subject"] for r in gw.log.rows() if r["kind"] == "risk_detected"}
    assert gw.log.pseudonym("mx", ana.id) not in subjects
    # finding 6: once the cases are done, no file the gateway wrote holds an event id (one fetches the text)
    await gw.stop()
    world.gateway = None
    for path in (p for p in (world.dir / "data").rglob("*") if p.is_file()):
        assert kit_event.encode() not in path.read_bytes(), path.name


async def test_a_follow_up_line_after_risk_removes_the_writer_and_only_them(world):
    """Session 19: "taking them now" after the same person's risk is the act, now (``context.followups``); the
    same line from someone with no risk before it is nothing. What the room and the moderators see."""
    gw = await world.start_gateway()
    kit, ana, mod = world.people["kit"], world.people["ana"], world.mod
    bot = world.bot.user_id
    await kit.say(world.group, "ive got all my pills here and i cant do this anymore")
    await kit.wait_for("kit's DM invite", lambda: dm_invites(kit))
    await mod.wait_for("the first alert", lambda: [m for m in mod.messages(world.mods_room, bot) if kit.id in
                                                   m["content"]["body"] and "Case" in m["content"]["body"]])
    assert membership(mod, world.group, kit.id) != "leave"  # high alone: no removal
    await ana.say(world.group, "taking them now")  # ana wrote no risk: nothing
    await kit.say(world.group, "taking them now")
    await mod.wait_for("kit's removal", lambda: membership(mod, world.group, kit.id) == "leave")
    alert = await mod.wait_for("the alert on the follow-up", lambda: [
        m["content"]["body"] for m in mod.messages(world.mods_room, bot) if "context.act_after_risk" in m["content"]["body"]])
    assert "taking them" not in alert[-1] and "pills here" not in alert[-1]
    await ana.say(world.group, "!help")  # handled in order: once answered, ana's line was handled before it
    await ana.wait_for("the help reply", lambda: [m for m in ana.messages(world.group, bot)
                                                  if m["content"]["body"].startswith("Safety bot commands")])
    await ana.sync()
    assert dm_invites(ana) == []
    state = await ana.client.room_get_state_event(world.group, "m.room.member", ana.id)
    assert state.content["membership"] == "join"
    assert gw.log.pseudonym("mx", ana.id) not in {r["subject"] for r in gw.log.rows() if r["kind"] == "risk_detected"}
