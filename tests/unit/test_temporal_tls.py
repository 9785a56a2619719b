"""TLS to a Temporal cluster as the settings ask: off on the embedded default, on with an API key,
mutual with a client certificate, and with a private CA and server name when given."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from temporalio.client import TLSConfig

from adapters.settings import Settings
from adapters.temporal import tls_config


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_tls_is_off_on_the_embedded_default_and_on_with_an_api_key_or_when_asked() -> None:
    assert tls_config(settings()) is False
    assert tls_config(settings(temporal_api_key="key")) is True
    assert tls_config(settings(temporal_tls=True)) is True


def test_a_client_certificate_a_private_ca_and_a_server_name_are_all_used(tmp_path: Path) -> None:
    for name in ("client.pem", "client.key", "ca.pem"):
        (tmp_path / name).write_bytes(name.encode())
    tls = tls_config(
        settings(
            temporal_tls_cert=tmp_path / "client.pem", temporal_tls_key=tmp_path / "client.key",
            temporal_tls_ca=tmp_path / "ca.pem", temporal_tls_server_name="temporal.internal",
            temporal_api_key="key",
        )
    )  # fmt: skip
    assert isinstance(tls, TLSConfig)
    assert (tls.client_cert, tls.client_private_key) == (b"client.pem", b"client.key")
    assert (tls.server_root_ca_cert, tls.domain) == (b"ca.pem", "temporal.internal")


def test_a_client_certificate_without_its_key_is_refused_naming_both_settings(tmp_path: Path) -> None:
    (tmp_path / "client.pem").write_bytes(b"cert")
    with pytest.raises(
        ValidationError, match="MICRODEMAND_TEMPORAL_TLS_CERT and MICRODEMAND_TEMPORAL_TLS_KEY"
    ):
        settings(temporal_tls_cert=tmp_path / "client.pem")


def test_a_tls_file_that_is_not_there_is_refused_at_start_naming_its_setting(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="temporal_tls_ca"):
        settings(temporal_tls_ca=tmp_path / "nowhere.pem")
