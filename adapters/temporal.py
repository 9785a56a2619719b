"""Connecting to Temporal from settings: the embedded dev server or any cluster (TLS, API key)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING

from temporalio.client import Client, TLSConfig
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter

from adapters.settings import Settings

if TYPE_CHECKING:
    from engine.sealing import Sealer


def data_converter(
    codec_key: bytes | None, sealer: Sealer | None = None, previous: Sequence[bytes] = ()
) -> DataConverter:
    """Pydantic payloads, and (with a key) residents' data encrypted by the ResidentCodec, each resident
    sealed with their own key first when a `sealer` is given."""
    if codec_key is None:
        return pydantic_data_converter
    from adapters.codec import ResidentCodec

    return dataclasses.replace(
        pydantic_data_converter, payload_codec=ResidentCodec(codec_key, sealer, previous)
    )


async def connect(
    settings: Settings,
    codec_key: bytes | None = None,
    sealer: Sealer | None = None,
    previous: Sequence[bytes] = (),
) -> Client:
    """A client for the configured Temporal target, speaking pydantic payloads (encrypted where a
    resident's data is in them, given the codec key; residents sealed with their own keys, given a
    sealer). With metrics or tracing turned on in settings, the client (and so its workers) report them."""
    api_key = settings.temporal_api_key.get_secret_value() if settings.temporal_api_key else None
    from adapters.telemetry import interceptors, runtime

    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(codec_key, sealer, previous),
        tls=tls_config(settings),
        api_key=api_key,
        runtime=runtime(settings),
        interceptors=interceptors(settings),
    )


def tls_config(settings: Settings) -> TLSConfig | bool:
    """TLS to Temporal as the settings ask: none (the embedded dev server); on, with the system's
    roots (`temporal_tls`, and always with an API key, which Temporal Cloud takes only over TLS);
    or a TLSConfig with a client certificate (mTLS), a private CA and the server's name as given."""
    s = settings
    on = s.temporal_tls or s.temporal_api_key is not None
    if s.temporal_tls_cert is None and s.temporal_tls_ca is None and s.temporal_tls_server_name is None:
        return on
    return TLSConfig(
        server_root_ca_cert=s.temporal_tls_ca.read_bytes() if s.temporal_tls_ca else None,
        domain=s.temporal_tls_server_name,
        client_cert=s.temporal_tls_cert.read_bytes() if s.temporal_tls_cert else None,
        client_private_key=s.temporal_tls_key.read_bytes() if s.temporal_tls_key else None,
    )


class SearchAttributesMissingError(RuntimeError):
    """The namespace lacks microdemand's search attributes and they could not be registered."""


async def ensure_search_attributes(client: Client) -> None:
    """Register the demands' search attributes in the client's namespace where they are missing.

    A workflow that upserts an attribute the namespace does not know fails its task, so a worker
    checks first; on a cluster where this client may not register them, it says which to add.
    """
    from temporalio.api.enums.v1 import IndexedValueType
    from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
    from temporalio.service import RPCError, RPCStatusCode

    from workflows.search import KEYS

    wanted = {
        key.name: IndexedValueType.Value(f"INDEXED_VALUE_TYPE_{key.indexed_value_type.name}") for key in KEYS
    }
    try:
        listed = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=client.namespace)
        )
        missing = {name: kind for name, kind in wanted.items() if name not in listed.custom_attributes}
    except RPCError as error:
        if error.status != RPCStatusCode.UNIMPLEMENTED:  # the time-skipping test server cannot list
            raise
        missing = wanted
    if not missing:
        return
    try:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=client.namespace, search_attributes=missing)
        )
    except RPCError as error:
        if error.status == RPCStatusCode.ALREADY_EXISTS:
            return
        names = ", ".join(f"{name} ({IndexedValueType.Name(kind)})" for name, kind in missing.items())
        raise SearchAttributesMissingError(
            f"namespace {client.namespace} lacks the search attributes {names} and this client cannot "
            f"add them ({error.message}): register them with `temporal operator search-attribute create`"
        ) from None
