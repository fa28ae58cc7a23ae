"""One writer at a time: a lock file beside the index that names its owner.

``IndexLock`` is held for a whole ``index``, ``remove`` or ``--retag`` run. A second
writer waits up to ``wait`` seconds, then stops with a message naming the process
that holds the lock and since when. A lock left by a process that no longer exists
(killed, power cut) is detected and taken over.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import time
from pathlib import Path

from .errors import IndexLockedError, MttqError

__all__ = ["IndexLock"]


class IndexLock:
    def __init__(self, index_dir: str | os.PathLike, wait: float = 0, poll: float = 0.2):
        index_dir = Path(os.path.abspath(index_dir))  # "." has no name to put the lock beside
        self.path = index_dir.with_name(f".{index_dir.name}.lock")
        self.wait, self.poll = wait, poll
        self.cleared_stale: dict | None = None  # the owner of a stale lock we took over

    def __enter__(self):
        deadline = time.monotonic() + self.wait
        while True:
            if self._try_create():
                return self
            owner = self._owner()
            if owner is not None and not _alive(owner):
                self.cleared_stale = owner
                self._remove_if(owner)
                continue
            if time.monotonic() >= deadline:
                raise IndexLockedError(self._busy_message(owner))
            time.sleep(self.poll)

    def __exit__(self, *exc):
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass

    def _try_create(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        owner = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        }
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return False
        except OSError as error:
            raise MttqError(f"Cannot lock the index ({self.path}): {error.strerror or error}.") from error
        with os.fdopen(fd, "w") as handle:
            json.dump(owner, handle)
        return True

    def _owner(self) -> dict | None:
        """The lock's owner; an empty or unreadable lock file (killed while writing
        it) counts as stale after a moment."""
        try:
            text = self.path.read_text(encoding="utf-8")
            owner = json.loads(text)
            if isinstance(owner, dict) and isinstance(owner.get("pid"), int):
                return owner
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            pass
        try:
            age = time.time() - self.path.stat().st_mtime
        except FileNotFoundError:
            return None
        return {"pid": -1, "since": "unknown"} if age > 2 else None

    def _remove_if(self, owner: dict) -> None:
        try:
            if self._owner() == owner or owner.get("pid") == -1:
                self.path.unlink()
        except FileNotFoundError:
            pass

    def _busy_message(self, owner: dict | None) -> str:
        if owner is None:
            return f"The index is being updated by another process (lock {self.path})."
        return (
            f"The index is being updated by process {owner['pid']} since {owner.get('since', 'unknown')}. "
            "Wait for it to finish, or pass --wait SECONDS."
        )


def _alive(owner: dict) -> bool:
    pid = owner.get("pid")
    if not isinstance(pid, int) or pid <= 0:
        return False
    if owner.get("host") not in (None, socket.gethostname()):
        return True  # another machine's process: cannot tell, assume alive
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
