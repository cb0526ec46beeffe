"""Named crash points for the crash tests: ``GATEWAY_FAILPOINT=name`` makes the process SIGKILL itself the
first time it reaches ``failpoint(name)``, so a test can kill it at exactly the point a race needs
(random kills find such windows only now and then). Unset, it costs one dictionary lookup."""

from __future__ import annotations

import os
import signal

__all__ = ["failpoint"]


def failpoint(name: str) -> None:
    if os.environ.get("GATEWAY_FAILPOINT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
