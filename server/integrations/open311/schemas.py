"""What each Open311 resource answers, as typed records: the OpenAPI document describes these,
and `formats.body` writes the very same records as JSON or XML, so the two cannot drift."""

from __future__ import annotations

from typing import Literal

import msgspec


class Endpoint(msgspec.Struct):
    specification: str
    url: str
    changeset: str
    type: Literal["production", "test"]
    formats: list[str]


class Discovery(msgspec.Struct):
    changeset: str
    contact: str
    key_service: str
    endpoints: list[Endpoint]


class Service(msgspec.Struct):
    service_code: str
    service_name: str
    description: str
    metadata: bool
    type: Literal["realtime", "batch", "blackbox"]
    keywords: str
    group: str


class Attribute(msgspec.Struct):
    variable: bool
    code: str
    datatype: Literal["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"]
    required: bool
    datatype_description: str
    order: int
    description: str


class ServiceDefinition(msgspec.Struct):
    service_code: str
    attributes: list[Attribute]


class ServiceRequest(msgspec.Struct):
    service_request_id: int
    status: Literal["open", "closed"]
    status_notes: str
    service_name: str
    service_code: str
    description: str | None  # only for the holder of a valid api_key
    agency_responsible: str | None
    service_notice: str
    requested_datetime: str
    updated_datetime: str
    expected_datetime: str
    address: str
    address_id: int
    zipcode: str | None
    lat: float | None
    long: float | None
    media_url: str | None


class CreatedRequest(msgspec.Struct):
    service_request_id: int
    service_notice: str
    account_id: str | None


class RequestToken(msgspec.Struct):
    service_request_id: int
    token: str


class ErrorItem(msgspec.Struct):
    code: int
    description: str


Answer = (
    Discovery
    | ServiceDefinition
    | list[Service]
    | list[ServiceRequest]
    | list[CreatedRequest]
    | list[RequestToken]
    | list[ErrorItem]
)
