"""The system's secret keys: from settings in a deployment, created under var/keys/ on the embedded stack.

| key | used for |
|---|---|
| `actor` | signing who sent each command, so the store records the authenticated actor |
| `lookup` | the keyed hash of residents' phone numbers and names that lets operators find a demand |
| `codec` | encrypting the payloads sent to Temporal (residents' data never reaches it in clear) |

Every process of one deployment must hold the same keys: a deployment sets them
(`MICRODEMAND_ACTOR_KEY`, ... base64 of 32 random bytes) or shares one keys folder. Only the
embedded default (an SQLite store under var/) creates missing keys itself, and says where.
"""

from __future__ import annotations

import base64
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from adapters.settings import Settings

NAMES = ("actor", "lookup", "codec")


class KeyMissingError(RuntimeError):
    """A key the deployment must provide is missing; the message says how to provide it."""


@dataclass(frozen=True)
class Keys:
    """The keys of one deployment, and which were created just now (on the embedded stack)."""

    actor: bytes
    lookup: bytes
    codec: bytes
    folder: Path
    created: tuple[str, ...] = ()


def load_keys(settings: Settings) -> Keys:
    """The deployment's keys: each from its setting, else from `<keys folder>/<name>.key`.

    On the embedded default (SQLite) a missing key file is created (32 random bytes, mode 600);
    elsewhere a missing key is a KeyMissingError, since every machine must hold the same one.
    """
    folder = settings.keys_dir or settings.var_dir / "keys"
    create = settings.store == "sqlite"
    found: dict[str, bytes] = {}
    created: list[str] = []
    for name in NAMES:
        secret = getattr(settings, f"{name}_key")
        if secret is not None:
            found[name] = _decoded(name, secret.get_secret_value())
            continue
        path = folder / f"{name}.key"
        if path.exists():
            found[name] = _decoded(name, path.read_text("ascii"))
        elif create:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            value = secrets.token_bytes(32)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as file:
                file.write(base64.b64encode(value).decode() + "\n")
            found[name] = value
            created.append(name)
        else:
            raise KeyMissingError(
                f"no {name} key: set MICRODEMAND_{name.upper()}_KEY (base64 of 32 random bytes, the same "
                f"on every machine) or put it in {path}"
            )
    return Keys(found["actor"], found["lookup"], found["codec"], folder, tuple(created))


def _decoded(name: str, text: str) -> bytes:
    try:
        value = base64.b64decode(text.strip(), validate=True)
    except ValueError:
        raise KeyMissingError(f"the {name} key is not base64") from None
    if len(value) < 32:
        raise KeyMissingError(f"the {name} key is {len(value)} bytes long: it must be at least 32")
    return value
