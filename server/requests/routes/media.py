"""Photos and scans, served only to those who may see their request."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.exceptions import NotFoundException
from litestar.response import File

from server.requests import media, queries
from server.shared.guards import current_actor, signed_in
from server.shared.services import Services


@get("/media/{filename:str}", guards=[signed_in], name="media")
async def media_file(request: Request[Any, Any, Any], services: Services, filename: str) -> File:
    svc = services
    if not media.is_stored_name(filename):
        raise NotFoundException()
    attachment = await queries.attachment_for(svc, current_actor(request), filename)
    path = media.media_path(svc.settings.media_dir, attachment.filename)
    if path is None:
        raise NotFoundException()
    return File(
        path,
        media_type="image/jpeg",
        content_disposition_type="inline",
        headers={"Cache-Control": "private, max-age=86400"},
    )


ROUTES = [media_file]
