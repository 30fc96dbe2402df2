"""The --state file: every cluster and object, written atomically.

The file is JSON: `{"format": "kubesim-state", "version": 1, "clusters": [...]}`. A write
goes to a temporary file in the same directory, is fsynced, then replaces the old file,
so a crash leaves either the old or the new state, never a torn one. A file that cannot
be read back raises StateError instead of being discarded.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

FORMAT = "kubesim-state"
VERSION = 1


class StateError(Exception):
    """The state file exists but cannot be used."""


def write(path: Path, clusters: list[dict], tls: dict | None = None) -> None:
    data = json.dumps(
        {"format": FORMAT, "version": VERSION, "tls": tls, "clusters": clusters},
        separators=(",", ":"),
    ).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    # make the rename itself durable
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def read(path: Path) -> dict:
    """`{"clusters": [...], "tls": {...} or None}`; no clusters when the file is absent."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {"clusters": [], "tls": None}
    except OSError as exc:
        raise StateError(f"cannot read state file {path}: {exc}") from exc
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise StateError(
            f"state file {path} is corrupt ({exc}); fix or move it away, kubesim will not "
            "overwrite it"
        ) from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise StateError(f"{path} is not a kubesim state file")
    if data.get("version") != VERSION:
        raise StateError(f"state file {path} has unsupported version {data.get('version')!r}")
    clusters = data.get("clusters")
    if not isinstance(clusters, list) or not all(
        isinstance(c, dict) and {"name", "token", "store"} <= c.keys() for c in clusters
    ):
        raise StateError(f"state file {path} is corrupt: malformed clusters")
    tls = data.get("tls")
    if tls is not None and not (isinstance(tls, dict) and {"ca", "cert", "key"} <= tls.keys()):
        raise StateError(f"state file {path} is corrupt: malformed tls section")
    return {"clusters": clusters, "tls": tls}
