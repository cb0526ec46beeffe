"""Who the bot is on the homeserver: the access token (checked with whoami) or the password; with
encryption on, the one device whose keys the crypto store holds, reused at every start, and the
password checked at every start without leaving a device behind. Refused credentials end the start
(``CredentialsRefused``); anything else is worth retrying (``TryAgain``). Part of ``MatrixAdapter``
(uses its state).
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from nio import Api, LoginError, WhoamiError

from adapters.contract import CredentialsRefused
from adapters.matrix.crypto import Session

__all__ = ["MatrixLogin", "TryAgain"]

log = logging.getLogger("gateway.matrix")

# Login answers that retrying cannot change: the operator must fix the user id, password or token.
_REFUSED = {"M_FORBIDDEN", "M_INVALID_USERNAME", "M_USER_DEACTIVATED", "M_UNKNOWN_TOKEN", "M_MISSING_TOKEN",
            "M_UNAUTHORIZED", "401", "403"}


async def _json_body(resp: aiohttp.ClientResponse) -> dict:
    """A homeserver answer's JSON object, or ``{}`` (the response is read and released either way)."""
    try:
        body = await resp.json(content_type=None)
    except (ValueError, aiohttp.ClientError):
        return {}
    finally:
        resp.release()
    return body if isinstance(body, dict) else {}


class TryAgain(Exception):
    """A start-up answer worth retrying (rate limit, server error)."""


class MatrixLogin:
    async def login(self) -> None:
        if self.crypto is not None:
            await self._login_with_device()
            return
        c = self.client
        if self.access_token:
            c.access_token = self.access_token
            who = await c.whoami()
            if isinstance(who, WhoamiError):
                if who.status_code in _REFUSED:
                    raise self._refused("token", who.status_code)
                raise TryAgain(f"the homeserver answered {who.status_code}")
            c.user_id, c.device_id = who.user_id, who.device_id or c.device_id
        else:  # (the password is tried at every start here: a wrong one is found at once)
            resp = await c.login(password=self.password, device_name="safeguarding-gateway")
            if isinstance(resp, LoginError):
                if resp.status_code in _REFUSED:
                    raise self._refused("password", resp.status_code)
                raise TryAgain(f"the homeserver answered {resp.status_code}")
        if c.device_id:
            self._remember("device", c.device_id)

    async def _whoami(self, token: str) -> Any:
        self.client.access_token = token
        return await self.client.whoami()

    def _refused(self, what: str, code: str) -> CredentialsRefused:
        """The one line ``gateway run`` ends with: which account, which homeserver, where the secret is."""
        if what == "token":
            return CredentialsRefused(f"network {self.network}: {self.client.homeserver} refused the access "
                                      f"token of {self.user_id} ({code}): check {self.secret_hint}")
        return CredentialsRefused(f"network {self.network}: {self.client.homeserver} refused the login of "
                                  f"{self.user_id} ({code}): check {self.secret_hint} and user_id")

    async def _login_with_device(self) -> None:
        """Log in as the bot's one device, whose keys the crypto store holds: the configured access token
        (its device), else the device saved by the last run (its token, or the password again for the
        same device id), else the password once more as a new device, saved for next time."""
        c, crypto = self.client, self.crypto
        assert crypto is not None
        if self.access_token:
            who = await self._whoami(self.access_token)
            if isinstance(who, WhoamiError):
                if who.status_code in _REFUSED:
                    raise self._refused("token", who.status_code)
                raise TryAgain(f"the homeserver answered {who.status_code}")
            if not who.device_id:
                raise CredentialsRefused(f"network {self.network}: the access token has no device, so it "
                                         f"cannot hold encryption keys: create a token by logging in")
            session = Session(who.user_id, who.device_id, self.access_token)
        else:
            session = crypto.saved_session(self.user_id)
            if session is not None:
                who = await self._whoami(session.access_token)
                if isinstance(who, WhoamiError):
                    if who.status_code not in _REFUSED:
                        raise TryAgain(f"the homeserver answered {who.status_code}")
                    session = await self._password_login(session.device_id)  # token revoked: same device
                elif self.password:
                    await self._check_password()
            else:
                wanted = self.configured_device
                session = await self._password_login(wanted if wanted and crypto.has_store(self.user_id, wanted)
                                                     else None)
            crypto.save_session(session)
        try:
            c.restore_login(session.user_id, session.device_id, session.access_token)
        except Exception as exc:  # vodozemac: the store cannot be unpickled with this key
            raise CredentialsRefused(f"network {self.network}: the crypto store in {crypto.directory} cannot "
                                     f"be opened ({type(exc).__name__}): is the pickle key the one it was "
                                     f"created with?") from None
        crypto.secure()
        self._remember("device", session.device_id)
        log.info("%s: signed in as device %s (encryption on, store %s)", self.network, session.device_id,
                 crypto.directory)
        await crypto.housekeeping(c)

    async def _check_password(self) -> None:
        """The saved device's token still works, so the password was not needed, but a wrong one would
        only show when that token is revoked, perhaps months later, when the bot can no longer log in.
        So it is tried now, as a login of its own (a raw request: nio's login would take the new device
        as the client's own and open a crypto store for it), and that device is logged out again at
        once. The bot's device, its keys and its token stay as they were, and nothing is left behind. (A
        login on the bot's own device id instead would leave one more valid token at every start:
        Synapse does not revoke a device's older tokens then, and logging one out deletes the device.)"""
        method, path, data = Api.login(self.user_id, password=self.password,
                                       device_name="safeguarding-gateway (password check)")
        resp = await self.client.send(method, path, data, headers={"Content-Type": "application/json"})
        body = await _json_body(resp)
        if resp.status != 200 or not isinstance(body.get("access_token"), str):
            code = body.get("errcode") or str(resp.status)
            if code in _REFUSED:
                raise self._refused("password", code)
            # Homeservers limit logins (Synapse: a burst of 5, then one per 5.5 minutes), and a restart
            # loop would spend them: the saved token works, so protection never waits for this check.
            log.warning("%s: the password could not be checked now (%s); it is checked again at the next "
                        "start", self.network, code)
            return
        out = await self.client.send("POST", "/_matrix/client/v3/logout", "{}",
                                     headers={"Authorization": f"Bearer {body['access_token']}",
                                              "Content-Type": "application/json"})
        await _json_body(out)
        if out.status != 200:
            log.warning("%s: the password is right, but the device %s that checked it could not be logged out "
                        "(%s): remove it in a Matrix client's session list", self.network, body.get("device_id"),
                        out.status)

    async def _password_login(self, device_id: str | None) -> Session:
        c = self.client
        c.device_id = device_id
        resp = await c.login(password=self.password, device_name="safeguarding-gateway")
        if isinstance(resp, LoginError):
            if resp.status_code in _REFUSED:
                raise self._refused("password", resp.status_code)
            raise TryAgain(f"the homeserver answered {resp.status_code}")
        return Session(resp.user_id, resp.device_id, resp.access_token)
