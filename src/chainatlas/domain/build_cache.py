"""What a chain file compiles to, kept between processes: the parsed chain with what the engines built from it (the
classifier's word tables, the compiled kernel's automaton), pickled in one file per chain file. A process that finds
the entry reads it (≈ 2 ms) instead of importing yaml, parsing and checking the file and building the tables
(≈ 40 ms here): every `chainatlas classify`, and each of its worker processes, pays that at its start.

What makes an entry safe to use:
- it is used only for the very bytes it was made from: it holds the chain file's bytes and its derived file's
  (`<stem>.derived.csv`) and is compared with them byte for byte, so a changed file never meets a stale entry, whatever
  its modification time says;
- and only for the code that made it: the size and modification time of every module of `domain/` and `engines/`
  and of the libraries whose objects it holds (what Python's own .pyc check trusts) and the Python version are part
  of the entry, so a changed module, an upgrade or another Python reads none of it (its payload is not even
  unpickled: it could name classes that changed);
- anything wrong with an entry (truncated, corrupt, unreadable, another user's) is a miss: the chain is built as
  without a cache and the entry written again;
- an entry is written whole or not at all (a temporary file renamed over it); a folder that cannot be made or
  written (read-only, full) only means no cache;
- unpickling runs code, so only a file owned by this user (or root), in a folder owned likewise, neither writable
  by anyone else, is read (a folder such as /tmp is never read from).

CHAINATLAS_BUILD_CACHE (config.py) places the folder or turns the cache off. Only the command line's chains loaded by
path are cached (`chain.load_chain`); a chain parsed from text in memory is not.
"""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import sys
from importlib.util import find_spec, source_hash
from pathlib import Path

from chainatlas import config

# Changed whenever what an entry holds changes shape in a way the modules' stat would not show.
_FORMAT = 1
_PACKAGE = Path(__file__).resolve().parent.parent
_CODE_FOLDERS = ("domain", "engines")
_LIBRARIES = ("ahocorasick",)  # the classifier's automaton is pyahocorasick's, pickled by it


def _code_version() -> tuple:
    """The code an entry was made by: the Python, and (name, size, mtime in ns) of every module of the folders whose
    code parses a chain or builds from it (the compiled kernel's shared object included) and of the libraries."""
    found = []
    for folder in _CODE_FOLDERS:
        with os.scandir(_PACKAGE / folder) as entries:
            for entry in entries:
                if entry.name.endswith((".py", ".so", ".pyd")) and entry.is_file():
                    st = entry.stat()
                    found.append((f"{folder}/{entry.name}", st.st_size, st.st_mtime_ns))
    for name in _LIBRARIES:
        spec = find_spec(name)
        if spec is not None and spec.origin:
            st = os.stat(spec.origin)
            found.append((spec.origin, st.st_size, st.st_mtime_ns))
    return (_FORMAT, sys.version, sys.implementation.cache_tag, tuple(sorted(found)))


def _private(st: os.stat_result) -> bool:
    """Owned by this user (or by root) and writable by no one else, where the system has owners."""
    if not hasattr(os, "getuid"):
        return True
    return st.st_uid in (os.getuid(), 0) and not st.st_mode & 0o022


class Entry:
    """The cache entry of one chain file, for its bytes as they are now (`sources`)."""

    def __init__(self, folder: Path, path: Path, sources: tuple[bytes, ...]) -> None:
        self.folder = folder
        where = str(path.resolve()).encode("utf-8")
        # one file per chain file: a new version of the file or of the code replaces the entry of the old one
        self.file = folder / f"{path.stem}-{source_hash(where).hex()}.pickle"
        self.header = (where, _code_version(), sources)

    def load(self) -> object | None:
        """What was stored for these sources by this code; None when there is nothing usable."""
        try:
            with open(self.file, "rb") as fh:
                if not (_private(os.fstat(fh.fileno())) and _private(os.stat(self.folder))):
                    return None
                data = io.BytesIO(fh.read())
            if pickle.load(data) != self.header:
                return None
            return pickle.load(data)
        except Exception:  # noqa: BLE001 — whatever is wrong with an entry (missing, corrupt, stale classes), it is a miss
            return None

    def store(self, value: object) -> None:
        """Keep `value` for these sources; a folder that cannot be written leaves the cache without it."""
        partial = self.folder / f".{self.file.name}.{os.getpid()}.partial"
        try:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            data = pickle.dumps(self.header, pickle.HIGHEST_PROTOCOL) + pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(partial, self.file)
        except OSError:
            with contextlib.suppress(OSError):
                partial.unlink(missing_ok=True)


def entry(path: Path, sources: tuple[bytes, ...]) -> Entry | None:
    """The cache entry of the chain file `path` whose bytes (with its derived file's) are `sources`; None when the
    cache is off."""
    folder = config.build_cache()
    return Entry(folder, path, sources) if folder is not None else None
