"""Where file bytes live: a small interface and its content-addressed filesystem version.

The pipeline only ever (1) streams into a staged file, (2) commits it under its SHA-256,
(3) opens, checks and deletes by key. Anything offering those five calls can hold the files
(an object store: docs/media.md, "Adding an object store"); intake and the API never see the
storage, only the key on the media row.

`FileStore` keeps objects at `<root>/sha256/<2 hex>/<64 hex>`: one copy of each distinct
content, written by rename so a reader never sees half a file and a crash leaves at most a
stray file in `<root>/tmp` (cleaned by the worker at start). The root is created 0700 and
files 0600: uploads are personal data.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import BinaryIO, Protocol


class StagedFile(Protocol):
    """A file being written; nothing is visible under a key until `commit`."""

    def write(self, data: bytes) -> object: ...


class MediaStore(Protocol):
    """The storage interface the pipeline, the API and retention use."""

    def stage(self) -> Staging: ...

    def open(self, key: str) -> BinaryIO: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None: ...


class Staging(Protocol):
    """A context manager: the staged file; `commit(sha256)` makes it permanent, leaving the
    block without a commit discards it."""

    file: StagedFile

    def __enter__(self) -> Staging: ...

    def __exit__(self, *exc: object) -> None: ...

    def commit(self, sha256: str) -> str: ...


def _key(sha256: str) -> str:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError("a storage key is made from a lowercase hex SHA-256")
    return f"sha256/{sha256[:2]}/{sha256}"


class FileStaging:
    """A temporary file in `<root>/tmp`, renamed into place on commit."""

    def __init__(self, store: FileStore) -> None:
        self._store = store
        fd, name = tempfile.mkstemp(prefix="upload-", dir=store.tmp)
        self.path = Path(name)
        self.file: BinaryIO = os.fdopen(fd, "wb", buffering=256 * 1024)
        self._done = False

    def __enter__(self) -> FileStaging:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.file.closed:
            self.file.close()
        if not self._done:
            self.path.unlink(missing_ok=True)

    def commit(self, sha256: str) -> str:
        key = _key(sha256)
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()
        final = self._store.path(key)
        final.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if final.exists():  # the same bytes are stored already: keep one copy
            self.path.unlink(missing_ok=True)
        else:
            os.replace(self.path, final)
        self._done = True
        return key


class FileStore:
    """Content-addressed files under `root` (FLOWGATE_MEDIA_DIR)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.tmp = self.root / "tmp"
        old = os.umask(0o077)
        try:
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
            self.tmp.mkdir(mode=0o700, exist_ok=True)
            objects = self.root / "sha256"
            if not (objects / "ff").is_dir():  # all 256 prefixes once: a commit is one rename
                for prefix in range(256):
                    (objects / f"{prefix:02x}").mkdir(mode=0o700, parents=True, exist_ok=True)
        finally:
            os.umask(old)
        os.chmod(self.root, 0o700)

    def path(self, key: str) -> Path:
        parts = key.split("/")
        if len(parts) != 3 or parts[0] != "sha256" or _key(parts[2]) != key:
            raise ValueError(f"not a storage key: {key!r}")
        return self.root / key

    def stage(self) -> FileStaging:
        return FileStaging(self)

    def open(self, key: str) -> BinaryIO:
        return self.path(key).open("rb")

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def clean_staging(self, older_than: float) -> int:
        """Remove staged files left by a crashed worker (older than `older_than` seconds)."""
        removed = 0
        cutoff = time.time() - older_than
        for entry in self.tmp.iterdir():
            try:
                if entry.is_file() and entry.stat().st_mtime < cutoff:
                    entry.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        return removed
