"""The command line: serve, migrate, demo, create-user, import-buildings, vapid-keys, worker."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from server.settings import Settings

if TYPE_CHECKING:
    from server.db.session import Database


def _migrate(settings: Settings) -> None:
    from server.db.migrate import upgrade

    upgrade(settings.database_url)


def cmd_migrate(args: argparse.Namespace) -> None:
    settings = Settings.from_env()
    _migrate(settings)
    print("Миграции применены.")


def cmd_demo(args: argparse.Namespace) -> None:
    from server.demo.loading import load_demo

    settings = Settings.from_env()
    loaded = asyncio.run(load_demo(settings))
    print("Демо-данные загружены." if loaded else "База не пуста: демо-данные не загружались.")


def cmd_serve(args: argparse.Namespace) -> None:
    import uvicorn

    settings = Settings.from_env()
    if args.migrate:
        _migrate(settings)
    if settings.demo:
        from server.demo.loading import DEMO_LOGINS, load_demo

        asyncio.run(load_demo(settings))
        print("Демо-режим. Входы (пароль у всех: demo): " + ", ".join(DEMO_LOGINS))
    print(f"Заявка ЖКХ: {settings.base_url}")
    uvicorn.run(
        "server.asgi:app",
        host=args.host or settings.host,
        port=args.port or settings.port,
        workers=args.workers,
        proxy_headers=True,
        # A live frame is the same bytes for a whole audience; per-message compression would
        # compress it again for every socket, the one cost that grows with the open pages.
        ws_per_message_deflate=False,
        forwarded_allow_ips=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
        log_level=os.environ.get("LOG_LEVEL", "info"),
    )


def _with_database(work: Callable[[Database], Awaitable[None]]) -> None:
    """Run `work` against the configured database; refused input is printed, exit code 2."""
    from server.db.session import Database
    from server.shared.errors import InvalidInput

    settings = Settings.from_env()

    async def run() -> None:
        db = Database(settings.database_url)
        try:
            await work(db)
        except InvalidInput as exc:
            for field, message in exc.fields.items():
                print(f"{field}: {message}", file=sys.stderr)
            sys.exit(2)
        finally:
            await db.dispose()

    asyncio.run(run())


def cmd_create_user(args: argparse.Namespace) -> None:
    from server.accounts.people import create_user

    password = args.password or os.environ.get("ZAYAVKA_PASSWORD") or getpass.getpass("Пароль: ")

    async def work(db: Database) -> None:
        user = await create_user(
            db,
            login=args.login,
            name=args.name or args.login,
            role=args.role,
            password=password,
            organisation_id=args.organisation,
            phone=args.phone,
        )
        print(f"Создан пользователь {user.login} (id {user.id}).")

    _with_database(work)


def cmd_import_buildings(args: argparse.Namespace) -> None:
    from server.catalog.building_import import import_buildings_csv

    data = Path(args.file).read_bytes()

    async def work(db: Database) -> None:
        report = await import_buildings_csv(db, data)
        print(report.summary())
        for line in report.errors:
            print(line, file=sys.stderr)
        if report.errors:
            sys.exit(2)

    _with_database(work)


def cmd_create_token(args: argparse.Namespace) -> None:
    from server.integrations.tokens import issue

    async def work(db: Database) -> None:
        token, plain = await issue(
            db, name=args.name, kind=args.kind, organisation_id=args.organisation
        )
        # The value is shown once: only its hash is stored.
        print(f"Ключ №{token.id} «{token.name}» ({token.kind}): {plain}")

    _with_database(work)


def cmd_vapid_keys(args: argparse.Namespace) -> None:
    from server.notify.push_keys import print_new_keys

    print_new_keys()


def cmd_worker(args: argparse.Namespace) -> None:
    import logging

    from server.app import outbox_deliverers
    from server.notify.worker import run_worker

    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO").upper())
    asyncio.run(run_worker(Settings.from_env(), outbox_deliverers))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="zayavka", description="Заявка ЖКХ")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="запустить веб-сервер")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--migrate", action="store_true", help="сначала применить миграции")
    serve.set_defaults(func=cmd_serve)

    sub.add_parser("migrate", help="применить миграции").set_defaults(func=cmd_migrate)
    sub.add_parser("demo", help="загрузить демо-данные в пустую базу").set_defaults(func=cmd_demo)

    user = sub.add_parser("create-user", help="создать пользователя")
    user.add_argument("login")
    user.add_argument("--role", required=True)
    user.add_argument("--name")
    user.add_argument("--organisation", type=int)
    user.add_argument("--phone")
    user.add_argument("--password")
    user.set_defaults(func=cmd_create_user)

    imp = sub.add_parser("import-buildings", help="загрузить дома из CSV")
    imp.add_argument("file")
    imp.set_defaults(func=cmd_import_buildings)

    token = sub.add_parser("create-token", help="выдать ключ для API или Open311")
    token.add_argument("name", help="название интеграции")
    token.add_argument("--kind", choices=["api", "open311", "pbx"], default="api")
    token.add_argument("--organisation", type=int, help="ключ видит только заявки организации")
    token.set_defaults(func=cmd_create_token)

    sub.add_parser("vapid-keys", help="создать ключи VAPID").set_defaults(func=cmd_vapid_keys)
    worker_help = "рассылать уведомления (push, вебхуки) отдельным процессом"
    sub.add_parser(
        "worker", aliases=["push-worker"], help=worker_help, description=worker_help
    ).set_defaults(func=cmd_worker)

    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
