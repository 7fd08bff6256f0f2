"""Private files: the instance folder and the SQLite database are the owner's alone.

The database holds webhook signing secrets, flow tokens and what customers typed, like the
private key and secrets.json next to it, so it gets the same 0600 (docs/leads.md, "Integrity").
SQLite creates its `-wal` and `-shm` files with the permissions of the database file
(https://www.sqlite.org/tempfiles.html, the unix VFS copies the main file's mode), so creating
the main file 0600 before SQLite opens it covers all three. Existing files are not changed
behind the owner's back (a backup user may need them); a readable one is logged with the fix.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger("flowgate.instance")

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def private_dir(path: Path) -> None:
    """Create `path` (and missing parents) 0700; warn when an existing one is open to others."""
    if path.exists():
        _warn_if_open(path, "folder", "chmod 700")
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.mkdir(mode=PRIVATE_DIR, exist_ok=True)
    os.chmod(path, PRIVATE_DIR)  # mkdir's mode is filtered by the umask


def private_sqlite_file(path: Path) -> None:
    """Create the database file 0600 before SQLite does (see the module docstring).

    A missing folder is left missing: the database is then unreachable, as configured
    (/healthz says so), rather than created somewhere by surprise.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        _warn_if_open(path, "database file", "chmod 600")
        return
    except OSError:  # no such folder, not writable: SQLite reports it on first use
        return
    os.close(fd)
    os.chmod(path, PRIVATE_FILE)


def _warn_if_open(path: Path, what: str, fix: str) -> None:
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning(
            "%s %s is accessible to other users (mode %o); it holds secrets and personal "
            "data: run `%s %s`",
            what,
            path,
            stat.S_IMODE(mode),
            fix,
            path,
        )
