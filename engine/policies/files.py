"""Reading a policy from a TOML file into its pydantic model, with errors that name the field."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from engine.values import field_errors

P = TypeVar("P", bound=BaseModel)


class PolicyError(ValueError):
    """A policy file that cannot be used; the message names the file and the field."""


def load_policy(model: type[P], path: Path | None, shipped: str, what: str) -> P:
    """Load `path` (or the file `shipped` with the project) as a `model`; PolicyError if invalid."""
    if path is None:
        text = resources.files("engine.policies").joinpath(shipped).read_text("utf-8")
        where = f"the default {what}"
    else:
        try:
            text = path.read_text("utf-8")
        except OSError as error:
            raise PolicyError(f"cannot read {what} {path}: {error.strerror}") from None
        where = str(path)
    try:
        return model.model_validate(tomllib.loads(text))
    except tomllib.TOMLDecodeError as error:
        raise PolicyError(f"{where} is not valid TOML: {error}") from None
    except ValidationError as error:
        raise PolicyError(f"{where} is not a valid {what}: {field_errors(error)}") from None
