"""Files the gateway keeps to itself: the directories that hold keys and tokens (the pseudonym key, the
crypto store, the bot's access token) are created owner-only, whatever the umask. Shared by the event log
and the Matrix adapter, so it lives below both."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["private_dir"]


def private_dir(directory: Path) -> None:
    """Create ``directory`` and any missing parent 0700 whatever the umask: they hold keys and tokens (the
    pseudonym key, the crypto store, the bot's access token). Directories that exist are left as they are."""
    missing = []
    for d in [directory, *directory.parents]:
        if d.exists():
            break
        missing.append(d)
    for d in reversed(missing):
        try:
            d.mkdir(mode=0o700)
        except FileExistsError:
            continue  # made by someone else meanwhile: theirs
        os.chmod(d, 0o700)  # (mkdir's mode is masked by the umask)
