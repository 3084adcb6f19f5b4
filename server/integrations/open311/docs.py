"""What the OpenAPI document says about Open311: each resource in JSON and XML, its errors in
the specification's shape, and the submission form with its limits."""

from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import (
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIType,
    Operation,
    Reference,
    RequestBody,
)
from litestar.openapi.spec import Schema as OpenAPISchema
from litestar.params import Parameter

from server.integrations.api_docs import TEXT_PATTERN, text
from server.integrations.open311.schemas import ErrorItem
from server.shared.forms import Form

JSON = "application/json"
XML = "text/xml"

ERRORS = {
    400: "A missing or wrong argument, an unsupported format or a refused photo.",
    403: "No api_key, or not a valid Open311 key.",
    404: "No such service, request, token or jurisdiction.",
    503: "The database does not answer; try again after Retry-After seconds.",
}


def error_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """`[{"code", "description"}]` (or `<errors>`) for 400, 503 and the statuses given."""
    return {
        status: ResponseSpec(
            data_container=list[ErrorItem], description=ERRORS[status], generate_examples=False
        )
        for status in sorted({400, 503, *statuses})
    }


# The last path segment: a name and the format, «services.json», «12.xml».
def named(what: str, stem: str = "[^/]{1,200}") -> Any:
    return Parameter(
        description=f"{what}, then .json or .xml",
        pattern=f"^{stem}\\.([jJ][sS][oO][nN]|[xX][mM][lL])$",
        max_length=210,
    )


def query_text(description: str, max_length: int = 200) -> Any:
    return Parameter(description=description, max_length=max_length, pattern=TEXT_PATTERN)


class SubmissionForm(Form):
    """POST requests.{fmt} (Open311 field names); `media` is a file part beside these."""

    api_key: Annotated[str, text(200)] = ""
    jurisdiction_id: Annotated[str, text(200)] = ""
    service_code: Annotated[str, text(64)] = ""
    lat: Annotated[str, text(40)] = ""
    long: Annotated[str, text(40)] = ""
    address_string: Annotated[str, text(300)] = ""
    address_id: Annotated[str, text(20)] = ""
    description: Annotated[str, text(4000)] = ""
    phone: Annotated[str, text(40)] = ""
    first_name: Annotated[str, text(100)] = ""
    last_name: Annotated[str, text(100)] = ""
    flat: Annotated[str, text(20)] = msgspec.field(default="", name="attribute[flat]")
    media_url: Annotated[str, text(2000)] = ""


SUBMISSION_REQUIRED = ("api_key", "service_code")
SUBMISSION_NOTES = {
    "media_url": "Refused with 400: the service never fetches what a URL points to; send the "
    "photo as the media file instead.",
    "attribute[flat]": "The flat, see the service definition.",
    "lat": "WGS84 latitude; with long, the nearest house of the registry.",
}


def _field_schema(tp: Any, encode_name: str) -> OpenAPISchema:
    metas = [m for m in typing.get_args(tp)[1:] if isinstance(m, msgspec.Meta)]
    limits = metas[0] if metas else msgspec.Meta()
    return OpenAPISchema(
        type=OpenAPIType.STRING,
        max_length=limits.max_length,
        pattern=limits.pattern,
        description=SUBMISSION_NOTES.get(encode_name),
    )


def _submission_schema(*, with_file: bool) -> OpenAPISchema:
    properties: dict[str, OpenAPISchema | Reference] = {
        info.encode_name: _field_schema(info.type, info.encode_name)
        for info in msgspec.structs.fields(SubmissionForm)
    }
    if with_file:
        properties["media"] = OpenAPISchema(
            type=OpenAPIType.STRING,
            format=OpenAPIFormat.BINARY,
            description="A photo (JPEG, PNG, WebP, HEIC), checked and re-encoded as the web "
            "form's photos are; an empty or unreadable file is refused with 400.",
        )
    return OpenAPISchema(
        type=OpenAPIType.OBJECT, properties=properties, required=list(SUBMISSION_REQUIRED)
    )


@dataclass
class Open311Operation(Operation):
    """Every Open311 answer comes in the format the path's extension names: JSON or XML.

    The operation id is made of the path's words («Open311V2ServicesJsonServiceList»), so it
    tells a fixed extension; a path whose last segment is a parameter may answer either.
    """

    def __post_init__(self) -> None:
        words = self.operation_id or ""
        formats = [media for word, media in (("Json", JSON), ("Xml", XML)) if word in words]
        for response in (self.responses or {}).values():
            content = getattr(response, "content", None)
            if content and JSON in content:
                described = content.pop(JSON)
                content.update(dict.fromkeys(formats or [JSON, XML], described))


@dataclass
class Open311Submission(Open311Operation):
    """POST requests.{fmt}: the form is read whole, so its body is described here."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.request_body = RequestBody(
            required=True,
            content={
                "application/x-www-form-urlencoded": OpenAPIMediaType(
                    schema=_submission_schema(with_file=False)
                ),
                "multipart/form-data": OpenAPIMediaType(schema=_submission_schema(with_file=True)),
            },
        )
