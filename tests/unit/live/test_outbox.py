"""A live socket's outbox: what a client receives when it reads, stops reading, falls behind,
never reads again or goes away. The client stands in for uvicorn's WebSocket send, which
waits while the transport is paused and otherwise writes at once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from server.live import connection
from server.live.connection import BACKLOG, Outbox


class Client:
    def __init__(self) -> None:
        self.received: list[Any] = []
        self.writable = asyncio.Event()
        self.writable.set()
        self.gone = False

    async def send(self, message: dict[str, Any]) -> None:
        await self.writable.wait()
        if self.gone:
            raise OSError("client disconnected")
        self.received.append(message.get("text", ("closed", message.get("code"))))


class Socket:
    def __init__(self, client: Client) -> None:
        self.behind = 0
        self.ended = 0
        self.outbox = Outbox(client.send, self.on_behind, self.on_ended)

    def on_behind(self) -> None:
        self.behind += 1

    def on_ended(self) -> None:
        self.ended += 1


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_reading_client_gets_every_message_at_once_without_a_task() -> None:
    client = Client()
    socket = Socket(client)
    tasks = len(asyncio.all_tasks())
    socket.outbox.offer("one")
    socket.outbox.offer("two")
    assert client.received == ["one", "two"]  # before anything else ran
    assert len(asyncio.all_tasks()) == tasks
    socket.outbox.close(4403)
    assert client.received == ["one", "two", ("closed", 4403)]
    assert socket.ended == 1
    socket.outbox.offer("three")  # after the close: nothing
    assert client.received[-1] == ("closed", 4403)


async def test_a_client_that_pauses_gets_what_waited_in_order_and_the_close_last() -> None:
    client = Client()
    socket = Socket(client)
    client.writable.clear()
    socket.outbox.offer("one")
    socket.outbox.offer("two")
    socket.outbox.offer("gone")
    socket.outbox.close(4403)
    await settle()
    assert client.received == []
    assert socket.ended == 0
    client.writable.set()
    await settle()
    assert client.received == ["one", "two", "gone", ("closed", 4403)]
    assert socket.ended == 1 and socket.behind == 0


async def test_a_client_too_far_behind_is_told_to_resync_and_then_gets_new_messages() -> None:
    client = Client()
    socket = Socket(client)
    client.writable.clear()
    for n in range(BACKLOG + 5):
        socket.outbox.offer(f"m{n}")
    client.writable.set()
    await settle()
    # The send that was under way arrives; what piled up behind it is dropped for a resync.
    assert client.received == ["m0"]
    assert socket.behind == 1
    socket.outbox.offer("whole state")
    assert client.received == ["m0", "whole state"]


async def test_a_client_that_never_reads_again_is_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(connection, "SEND_TIMEOUT", 0.05)
    client = Client()
    socket = Socket(client)
    client.writable.clear()
    socket.outbox.offer("one")
    await asyncio.sleep(0.2)
    assert socket.ended == 1
    assert client.received == []


async def test_a_client_that_went_away_ends_the_socket() -> None:
    client = Client()
    socket = Socket(client)
    client.gone = True
    socket.outbox.offer("one")
    assert socket.ended == 1
    socket.outbox.offer("two")
    assert client.received == []


async def test_an_abandoned_socket_gives_up_its_waiting_send() -> None:
    client = Client()
    socket = Socket(client)
    client.writable.clear()
    socket.outbox.offer("one")
    socket.outbox.abandon()
    client.writable.set()
    await settle()
    assert client.received == []
    assert socket.ended == 0  # the socket's task is already ending
