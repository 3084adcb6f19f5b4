"""Filing a service request: where, for whom, then the same `file_request` as every filer."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, fields

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from server.accounts.people import find_or_create_caller, normalise_phone
from server.db.models import Request, User
from server.i18n import gettext as _
from server.integrations.open311.addresses import Place, locate
from server.integrations.open311.docs import SubmissionForm
from server.integrations.open311.errors import bad_request
from server.integrations.open311.reading import get_request, service
from server.integrations.tokens import TokenHolder
from server.requests import media
from server.requests.filing import NewRequest, file_request
from server.shared.errors import InvalidInput
from server.shared.roles import Role
from server.shared.services import Services


@dataclass(frozen=True)
class Submission:
    """POST requests.{fmt} as given: what, where, and who (phone and name, both optional)."""

    service_code: str
    description: str
    place: Place
    phone: str = ""
    name: str = ""  # first_name and last_name
    flat: str = ""  # attribute[flat]
    media: bytes | None = None  # the photo, sent as a file (multipart/form-data)
    media_url: str = ""  # refused: we never fetch what a URL points to

    @classmethod
    def from_form(cls, form: SubmissionForm, photo: bytes | None = None) -> Submission:
        return cls(
            service_code=form.service_code,
            description=form.description,
            place=Place(**{f.name: getattr(form, f.name) for f in fields(Place)}),
            phone=form.phone,
            name=" ".join(f"{form.first_name} {form.last_name}".split()),
            flat=form.flat,
            media=photo,
            media_url=form.media_url,
        )


async def _caller(svc: Services, phone: str, name: str) -> int:
    number = normalise_phone(phone)
    if number is None:
        raise bad_request(_("phone: неверный номер телефона."))
    try:
        async with svc.db.begin() as session:
            return (await find_or_create_caller(session, number, name)).id
    except InvalidInput as exc:
        raise bad_request(invalid_text(exc)) from None
    except IntegrityError:
        # Filed at the same moment by another call: the caller exists now.
        async with svc.db.begin() as session:
            return (await find_or_create_caller(session, number, name)).id


async def _anonymous_resident(svc: Services, holder: TokenHolder) -> int:
    """Without a phone the request belongs to the integration's own anonymous resident."""
    login = f"open311-{holder.token_id}"
    for _attempt in range(2):
        try:
            async with svc.db.begin() as session:
                user = (await session.scalars(select(User).where(User.login == login))).first()
                if user is None:
                    user = User(
                        login=login,
                        name=_("Житель (через %(name)s)", name=holder.name)[:200],
                        role=Role.RESIDENT,
                    )
                    session.add(user)
                    await session.flush()
                return user.id
        except IntegrityError:
            continue
    raise bad_request(_("Не удалось зарегистрировать заявителя."))


async def _resident(svc: Services, holder: TokenHolder, sub: Submission) -> int:
    if sub.phone:
        return await _caller(svc, sub.phone, sub.name)
    return await _anonymous_resident(svc, holder)


def _description(sub: Submission, category_name: str) -> str:
    description = " ".join(sub.description.split(" ")).strip()[:4000]
    if not description:
        return category_name
    if len(description) < 5:
        return f"{category_name}: {description}"
    return description


def media_url_text() -> str:
    return _(
        "media_url не принимается: сервис не загружает файлы по ссылкам. Приложите фото "
        "файлом в поле media (multipart/form-data)."
    )


async def _photos(sub: Submission) -> list[bytes]:
    """The photo checked as the web form's photos are, before anything is written."""
    if sub.media is None:
        return []
    try:
        checked = await asyncio.to_thread(media.process_image, sub.media, "media")
    except InvalidInput as exc:
        raise bad_request(invalid_text(exc)) from None
    # The stored copy is made from the checked one: already re-encoded, small, without EXIF.
    return [checked.data]


def invalid_text(exc: InvalidInput) -> str:
    """«field: what is wrong» for each field, or the general message."""
    return " ".join(f"{name}: {message}" for name, message in exc.fields.items()) or exc.message


async def submit(svc: Services, holder: TokenHolder, sub: Submission) -> Request:
    if sub.media_url:
        raise bad_request(media_url_text())
    if not sub.service_code:
        raise bad_request(_("Не указан service_code."))
    category = await service(svc, sub.service_code)
    building, point = await locate(svc, sub.place)
    photos = await _photos(sub)
    resident_id = await _resident(svc, holder, sub)
    try:
        outcome = await file_request(
            svc,
            holder.filer,
            NewRequest(
                building_id=building.id,
                category_id=category.id,
                description=_description(sub, category.name),
                flat=sub.flat,
                resident_id=resident_id,
                source="open311",
                latitude=point[0] if point else None,
                longitude=point[1] if point else None,
                photos=photos,
            ),
        )
    except InvalidInput as exc:
        raise bad_request(invalid_text(exc)) from None
    return await get_request(svc, outcome.request.id)
