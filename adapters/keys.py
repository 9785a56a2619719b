"""Secret keys the system keeps apart from its data: given by settings, or created on first use.

On the embedded default a key is a file under `var/keys/` (created with owner-only permissions
the first time it is needed, and said where); in a deployment it comes from a setting, so every
machine uses the same one. One place, so other keys (per-resident encryption) can follow it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
from pathlib import Path

from pydantic import SecretStr

KEY_BYTES = 32

log = logging.getLogger(__name__)


class SecretKeyError(ValueError):
    """A key given in settings or found on disk that cannot be used."""


def secret_key(name: str, given: SecretStr | None, folder: Path, setting: str) -> bytes:
    """The key `name`: from its setting (hex) if given, else `<folder>/<name>.key`, made if missing."""
    if given is not None:
        return _from_hex(given.get_secret_value(), setting)
    path = folder / f"{name}.key"
    if not path.exists():
        _create(path, setting)
    return _from_hex(path.read_text("ascii"), str(path))


def _create(path: Path, setting: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return
    with contextlib.closing(os.fdopen(fd, "w", encoding="ascii")) as file:
        file.write(secrets.token_hex(KEY_BYTES) + "\n")
    log.warning(
        "created a new secret key at %s: keep it with the backups (views built with it need it); "
        "on more than one machine, set %s to the same key everywhere",
        path,
        setting,
    )


def _from_hex(text: str, where: str) -> bytes:
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        raise SecretKeyError(f"{where}: a key is written as hexadecimal digits") from None
    if len(key) < 16:
        raise SecretKeyError(f"{where}: a key needs at least 16 bytes (32 hexadecimal digits)")
    return key
