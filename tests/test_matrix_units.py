"""Matrix adapter pieces that need no server: reading message text, rate-limit waits."""

from __future__ import annotations

import pytest

from adapters.matrix.connection import MAX_RETRY_AFTER_S, retry_after_ms
from adapters.matrix.incoming import message_text


@pytest.mark.parametrize("content, expected", [
    ({"msgtype": "m.text", "body": "hello"}, "hello"),
    ({"body": "plain", "formatted_body": "<b>plain</b>"}, "plain"),
    ({"body": "a spoiler", "formatted_body": 'a <span data-mx-spoiler>hidden words</span>'},
     "a spoiler\na hidden words"),
    ({"formatted_body": "<p>only html</p>"}, "only html"),
    ({"body": 42}, None),
    ({}, None),
    ("not a dict", None),
    ({"body": "", "formatted_body": "<p><unclosed"}, "<unclosed"),  # malformed HTML: scan what is there
])
def test_message_text_reads_body_and_formatted_body(content, expected):
    assert message_text(content) == expected


@pytest.mark.parametrize("headers, body_ms, expected", [
    ({"Retry-After": "2"}, None, 2000),
    ({"Retry-After": "2"}, 9000, 2000),               # the header wins over the deprecated body field
    ({}, 1500, 1500),
    ({}, None, 5000),
    ({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, 700, 700),
    ({"Retry-After": "3600"}, None, int(MAX_RETRY_AFTER_S * 1000)),  # capped
])
def test_retry_after(headers, body_ms, expected):
    assert retry_after_ms(headers, body_ms) == expected


def test_an_edit_is_read_from_its_new_content():
    edit = {"msgtype": "m.text", "body": "* i took all my pills",
            "m.new_content": {"msgtype": "m.text", "body": "i took all my pills"},
            "m.relates_to": {"rel_type": "m.replace", "event_id": "$x"}}
    assert message_text(edit) == "i took all my pills"


async def test_start_up_waits_longer_after_each_failure_up_to_a_minute_and_refused_credentials_are_not_retried(
        monkeypatch, caplog):
    """An unreachable homeserver is retried after 1, 2, 4 ... s, never more than 60 s apart (``gateway run`` at a
    terminal: test_cli.py); it starts once the server answers."""
    import asyncio

    import aiohttp

    from adapters.matrix import connection
    from adapters.matrix.login import CredentialsRefused, TryAgain

    waits: list[float] = []
    failures = iter([aiohttp.ClientConnectionError("cannot connect")] * 8 + [TryAgain("the homeserver answered 502")])

    class Client:
        homeserver = "http://127.0.0.1:9"

    class Starting(connection.MatrixConnection):
        network, client = "mx", Client()

        async def login(self):
            failure = next(failures, None)
            if failure is not None:
                raise failure

        async def join_rooms(self):
            pass

        async def load_direct(self):
            pass

    async def sleep(seconds):
        waits.append(seconds)

    monkeypatch.setattr(asyncio, "sleep", sleep)
    await Starting().start_up()
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert [r.getMessage().rsplit("; ", 1)[1] for r in caplog.records] == [f"retrying in {w:.0f} s" for w in waits]

    failures = iter([CredentialsRefused("network mx: the homeserver refused the password")])
    waits.clear()
    with pytest.raises(CredentialsRefused):
        await Starting().start_up()
    assert waits == []
