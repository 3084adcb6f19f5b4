"""Sign-in, self-registration of residents, sign-out, profile, a resident's own data (download,
deletion of the account), and the home redirect."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from server.accounts import people as accounts
from server.accounts import personal_data
from server.accounts.forms import DeleteAccountForm, LanguageForm, LoginForm, RegistrationForm
from server.accounts.middleware import SESSION_USER
from server.accounts.sessions import ROTATE_KEY
from server.i18n import DEFAULT_LOCALE, LOCALES
from server.i18n import gettext as _
from server.shared.errors import InvalidInput
from server.shared.guards import current_user, roles, signed_in
from server.shared.rendering import flash, render
from server.shared.roles import Role
from server.shared.services import Services

Sent = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]

# A resident's own data only: the account is the signed-in one, never named in the URL or form.
resident_only = [roles(Role.RESIDENT)]
# Signing out asks the browser and the service worker to drop what belonged to the person.
CLEAR_SITE_DATA = {"Clear-Site-Data": '"cache", "storage"'}

HOME_BY_ROLE = {
    Role.RESIDENT: "/requests",
    Role.OPERATOR: "/operator",
    Role.DISPATCHER: "/board",
    Role.CONTRACTOR: "/jobs",
    Role.WORKER: "/jobs",
    Role.CITY_ADMIN: "/admin",
    Role.SYSADMIN: "/sysadmin",
}


def _safe_next(value: str | None) -> str | None:
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return None


def _sign_in(request: Request[Any, Any, Any], user_id: int) -> None:
    # A fresh session on every sign-in, so a planted session id is worth nothing.
    request.set_session({SESSION_USER: user_id, ROTATE_KEY: True})


@get("/", name="home")
async def home(request: Request[Any, Any, Any]) -> Template | Redirect:
    user = request.scope.get("user")
    if user is not None:
        return Redirect(HOME_BY_ROLE.get(Role(user.role), "/profile"), status_code=303)
    return render(request, "auth/landing.html", {"user": None})


@get("/login", name="login")
async def login_page(request: Request[Any, Any, Any], next: str | None = None) -> Template:
    return render(request, "auth/login.html", {"user": None, "next": _safe_next(next) or ""})


@post("/login")
async def login(
    request: Request[Any, Any, Any], services: Services, data: Sent
) -> Template | Redirect:
    try:
        form = LoginForm.parse(data)
    except InvalidInput:
        form = LoginForm()  # nothing a person types is refused here: it just does not match
    user = await accounts.authenticate(services.db, form.login, form.password)
    if user is None:
        return render(
            request,
            "auth/login.html",
            {
                "user": None,
                "next": _safe_next(form.next) or "",
                "login": form.login,
                "error": _("Неверный логин или пароль."),
            },
            status_code=422,
        )
    _sign_in(request, user.id)
    chosen = request.cookies.get("lang")
    if chosen in LOCALES and chosen != user.locale:
        # The language picked on the sign-in page wins over the one stored before.
        await accounts.set_locale(services.db, user.id, chosen)
    target = _safe_next(form.next) or HOME_BY_ROLE.get(Role(user.role), "/")
    return Redirect(target, status_code=303)


@post("/logout")
async def logout(request: Request[Any, Any, Any]) -> Redirect:
    request.clear_session()
    return Redirect("/login", status_code=303, headers=CLEAR_SITE_DATA)


@get("/register", name="register")
async def register_page(request: Request[Any, Any, Any]) -> Template:
    return render(request, "auth/register.html", {"user": None, "form": {}, "errors": {}})


@post("/register")
async def register(
    request: Request[Any, Any, Any], services: Services, data: Sent
) -> Template | Redirect:
    try:
        user = await accounts.register_resident(services.db, RegistrationForm.parse(data))
    except InvalidInput as exc:
        return render(
            request,
            "auth/register.html",
            {"user": None, "form": data, "errors": exc.fields},
            status_code=422,
        )
    _sign_in(request, user.id)
    flash(request, _("Добро пожаловать! Теперь можно подать заявку."))
    return Redirect("/requests/new", status_code=303)


@get("/profile", guards=[signed_in], name="profile")
async def profile(request: Request[Any, Any, Any]) -> Template:
    return render(request, "auth/profile.html", {"user": request.scope["user"], "errors": {}})


@get("/profile/my-data", guards=resident_only, name="my_data")
async def download_my_data(request: Request[Any, Any, Any], services: Services) -> Response[bytes]:
    """Everything stored about the signed-in resident, as a JSON file to save (152-ФЗ)."""
    export = await personal_data.export_personal_data(services.db, current_user(request).id)
    return Response(
        export.as_json(),
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="{export.filename}"',
            "Cache-Control": "no-store",
        },
    )


@post("/profile/delete", guards=resident_only)
async def delete_my_account(
    request: Request[Any, Any, Any], services: Services, data: Sent
) -> Template | Redirect:
    """The resident deletes their own account: their requests stay in the figures, anonymised,
    and every device of theirs is signed out."""
    user = current_user(request)
    try:
        form = DeleteAccountForm.parse(data)
        await personal_data.delete_account(
            services.db, user.id, form.password, request.app.stores.get("sessions")
        )
        await services.account_changed(user.id)
    except InvalidInput as exc:
        return render(
            request,
            "auth/profile.html",
            {"user": user, "errors": exc.fields},
            status_code=422,
        )
    request.clear_session()
    flash(
        request,
        _(
            "Учётная запись удалена. Ваши заявки остались в статистике города "
            "без вашего имени, телефона и квартиры."
        ),
    )
    return Redirect("/", status_code=303, headers=CLEAR_SITE_DATA)


@post("/language")
async def choose_language(
    request: Request[Any, Any, Any], services: Services, data: Sent
) -> Redirect:
    """Russian by default; Tatar and English on request, remembered for the person."""
    try:
        locale = LanguageForm.parse(data).lang
    except InvalidInput:
        locale = DEFAULT_LOCALE
    if locale not in LOCALES:
        locale = DEFAULT_LOCALE
    user = request.scope.get("user")
    if user is not None:
        await accounts.set_locale(services.db, user.id, locale)
    back = _safe_next(_same_origin_path(request.headers.get("referer", ""))) or "/"
    response = Redirect(back, status_code=303)
    response.set_cookie("lang", locale, max_age=365 * 24 * 3600, samesite="lax", httponly=True)
    return response


def _same_origin_path(referer: str) -> str | None:
    parsed = urlsplit(referer)
    if not parsed.path:
        return None
    return parsed.path + (f"?{parsed.query}" if parsed.query else "")


ROUTES = [
    home,
    login_page,
    login,
    logout,
    register_page,
    register,
    profile,
    download_my_data,
    delete_my_account,
    choose_language,
]
