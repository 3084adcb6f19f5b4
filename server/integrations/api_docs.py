"""What the OpenAPI document promises about the JSON API's inputs and errors.

Bounded input types (ids the database can hold, texts of a known length without control
characters) and the error answers each endpoint lists: one body, `ErrorBody`, for all of them.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar.openapi.datastructures import ResponseSpec

from server.shared.error_pages import ErrorBody
from server.shared.forms import DB_INT_MAX

# The characters `forms.has_control_characters` refuses, as a JSON Schema pattern: NUL and the
# other control characters except tab and line breaks.
TEXT_PATTERN = "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f]*$"


def text(max_length: int) -> msgspec.Meta:
    """The constraint of a text field of a request body."""
    return msgspec.Meta(max_length=max_length, pattern=TEXT_PATTERN)


Id = Annotated[int, msgspec.Meta(ge=1, le=DB_INT_MAX)]

ERRORS: dict[int, str] = {
    400: "A query or path value does not fit its type, or the body is not JSON.",
    401: "No valid token: send Authorization: Bearer <token>.",
    403: "The token's organisation may not take this action.",
    404: "No such request or webhook within the token's reach.",
    409: "The request changed since `version` was read, or the action is not possible now.",
    422: "A body field or a filter is missing or refused: `errors` names each field.",
    503: "The database does not answer; try again after Retry-After seconds.",
}
# Every call may meet a bad value, a missing token or an unavailable database.
ALWAYS = (400, 401, 503)


def error_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """The documented error answers of one endpoint: ALWAYS and the statuses given."""
    return {
        status: ResponseSpec(
            data_container=ErrorBody, description=ERRORS[status], generate_examples=False
        )
        for status in sorted({*ALWAYS, *statuses})
    }
