"""The pages every kind of settings record has, written once: a form to add one, the same form
to change one, and what happens when either is sent.

An `EditPages` says only what differs between organisations, houses, categories and users: its
template and form, how to load a record and fill the form from it, the use cases that save it,
and where to go afterwards. A mistake brings the page back with what was typed and a message
beside each field; nothing is saved.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Generic, TypeVar

from litestar import Request, get, post
from litestar.handlers import HTTPRouteHandler
from litestar.params import Parameter
from litestar.response import Redirect, Template

from server.catalog.deadline_units import human_minutes
from server.db.session import Database
from server.shared.errors import InvalidInput
from server.shared.forms import DB_INT_MAX, Form
from server.shared.guards import current_actor
from server.shared.rendering import flash, redirect, render
from server.shared.roles import Actor
from server.shared.services import Services

Page = Template | Redirect
# A record's id in an address; one the database cannot hold is refused before any lookup.
PathId = Annotated[int, Parameter(ge=1, le=DB_INT_MAX)]
F = TypeVar("F", bound=Form)
Shown = TypeVar("Shown")  # what an edit page shows: the record, or the record and its links
Saved = TypeVar("Saved")  # what the use cases return


class SwitchForm(Form):
    """A switch-on or switch-off button: active=1 or active=0."""

    active: bool = False

    def told(self, switched_on: str, switched_off: str) -> str:
        """The flash message for the way the switch went."""
        return switched_on if self.active else switched_off


async def form_fields(request: Request[Any, Any, Any]) -> dict[str, str]:
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


def settings_context(request: Request[Any, Any, Any], section: str, **extra: Any) -> dict[str, Any]:
    return {
        "user": request.scope["user"],
        "section": section,
        "human_minutes": human_minutes,
        **extra,
    }


def done(request: Request[Any, Any, Any], message: str, url: str) -> Redirect:
    flash(request, message)
    return redirect(request, url)  # type: ignore[return-value]


@dataclass(frozen=True)
class EditPages(Generic[F, Shown, Saved]):
    section: str  # its address under /sysadmin, and the part of the navigation that is lit
    template: str
    subject: str  # the name the template knows the shown record by
    form: type[F]
    create: Callable[[Database, Actor, F], Awaitable[Saved]]
    created: Callable[[Saved], tuple[str, str]]  # the flash message and where to go
    choices: Callable[[Services], Awaitable[dict[str, Any]]]  # lists the form picks from
    load: Callable[[Database, Actor, int], Awaitable[Shown]] | None = None
    form_of: Callable[[Shown], F] | None = None
    update: Callable[[Database, Actor, int, F], Awaitable[Saved]] | None = None
    updated: Callable[[Saved], tuple[str, str]] | None = None
    never_shown: frozenset[str] = field(default_factory=frozenset)  # e.g. a password
    # After a saved change (committed): e.g. tell the person's open live pages.
    after_update: Callable[[Services, Saved], Awaitable[None]] | None = None

    async def page(
        self,
        request: Request[Any, Any, Any],
        services: Services,
        record_id: int | None,
        typed: Mapping[str, Any] | None = None,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        """The form, filled from the record, or with what was typed when it came back."""
        shown = None
        form: Any = self.form()
        if record_id is not None and self.load is not None:
            shown = await self.load(services.db, current_actor(request), record_id)
            if self.form_of is not None:
                form = self.form_of(shown)
        if typed is not None:
            form = {k: v for k, v in typed.items() if k not in self.never_shown}
        context = settings_context(
            request,
            self.section,
            form=form,
            errors=errors or {},
            **{self.subject: shown},
            **await self.choices(services),
        )
        return render(request, self.template, context, status_code=status_code)

    async def _save(
        self,
        request: Request[Any, Any, Any],
        services: Services,
        record_id: int | None,
        save: Callable[[F], Awaitable[Saved]],
        then: Callable[[Saved], tuple[str, str]],
    ) -> Page:
        typed = await form_fields(request)
        try:
            saved = await save(self.form.parse(typed))
        except InvalidInput as exc:
            return await self.page(request, services, record_id, typed, exc.fields, 422)
        message, url = then(saved)
        return done(request, message, url)

    def handlers(self) -> list[HTTPRouteHandler]:
        pages = self

        @get(f"/{self.section}/new")
        async def new(request: Request[Any, Any, Any], services: Services) -> Template:
            return await pages.page(request, services, None)

        @post(f"/{self.section}/new")
        async def create(request: Request[Any, Any, Any], services: Services) -> Page:
            actor = current_actor(request)

            async def save(form: F) -> Saved:
                return await pages.create(services.db, actor, form)

            return await pages._save(request, services, None, save, pages.created)

        found: list[HTTPRouteHandler] = [new, create]
        update, updated = self.update, self.updated
        if update is None or updated is None:
            return found

        @get(f"/{self.section}/{{record_id:int}}")
        async def edit(
            request: Request[Any, Any, Any], services: Services, record_id: PathId
        ) -> Template:
            return await pages.page(request, services, record_id)

        @post(f"/{self.section}/{{record_id:int}}")
        async def change(
            request: Request[Any, Any, Any], services: Services, record_id: PathId
        ) -> Page:
            actor = current_actor(request)

            async def save(form: F) -> Saved:
                saved = await update(services.db, actor, record_id, form)
                if pages.after_update is not None:
                    await pages.after_update(services, saved)
                return saved

            return await pages._save(request, services, record_id, save, updated)

        return [*found, edit, change]
