"""The keys a deployment gives every process in its settings (test values, never secret)."""

from __future__ import annotations

import base64

from adapters.keys import NAMES

DEPLOYED_KEYS = {f"{name}_key": base64.b64encode(bytes([n]) * 32).decode() for n, name in enumerate(NAMES, 1)}
"""`actor_key`, `lookup_key`, `codec_key`: 32 bytes each, base64, as settings take them."""
