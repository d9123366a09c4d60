"""Connections dealt to the server processes in turn, when there are several.

Processes that all accept on one shared socket do not share the work. Each new connection
goes to whichever process the kernel wakes first, and a burst of connections (a client's
keep-alive pool opening, a proxy's upstream connections) often lands whole on one process
while the others idle: measured, 16 of the bench's 16 connections on one of two processes,
which then served alone. Node's cluster module deals connections from its parent for the
same reason. So with more than one process the parent accepts every connection and hands it
to the next live server process over a Unix socket of that process's own (SCM_RIGHTS),
skipping one that is gone or not reading; each process serves the connections it is handed
(``serve_dealt``). A connection costs one hand-over more; its requests cost nothing more.
"""
from __future__ import annotations

import logging
import selectors
import socket
import threading
from typing import Callable

log = logging.getLogger("alliance.supervisor")
_ACCEPTS_PER_WAKE = 64  # at most this many accepts before looking at every socket again


class Dealer:
    """The parent's side: ``channel(slot)`` before forking a server process (its end goes to
    the child), ``start()`` once they are forked, ``close(slot)`` when one dies, ``stop()``."""

    def __init__(self, listening: list[socket.socket]):
        self.listening = listening
        self._ends: dict[int, socket.socket] = {}  # slot -> the parent's end of its channel
        self._lock = threading.Lock()
        self._turn = 0
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def channel(self, slot: int) -> socket.socket:
        """A new channel to the server process of ``slot`` (about to be forked): the child's
        end. Connections go to it as soon as it exists; the kernel keeps them until the
        child reads."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        ours.setblocking(False)
        with self._lock:
            old = self._ends.pop(slot, None)
            self._ends[slot] = ours
        if old is not None:
            old.close()
        return theirs

    def close(self, slot: int) -> None:
        """The process of ``slot`` is gone: deal to the others until it is forked again."""
        with self._lock:
            end = self._ends.pop(slot, None)
        if end is not None:
            end.close()

    def in_child(self, kept: socket.socket) -> None:
        """In a forked child: drop the parent's ends and the listening sockets (the parent
        accepts), keeping only ``kept``."""
        for end in list(self._ends.values()):
            if end is not kept:
                end.close()
        for sock in self.listening:
            sock.close()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._accept_forever, name="dealer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        for sock in self.listening:
            sock.close()
        with self._lock:
            ends, self._ends = list(self._ends.values()), {}
        for end in ends:
            end.close()

    def _accept_forever(self) -> None:
        with selectors.DefaultSelector() as selector:
            for sock in self.listening:
                selector.register(sock, selectors.EVENT_READ)
            while not self._stopped.is_set():
                for key, _ in selector.select(timeout=0.5):
                    for _ in range(_ACCEPTS_PER_WAKE):
                        try:
                            connection, _ = key.fileobj.accept()
                        except (BlockingIOError, InterruptedError):
                            break
                        except OSError:  # e.g. out of file descriptors: try again later
                            log.warning("accept failed", exc_info=True)
                            break
                        with connection:  # the child holds its own copy once dealt
                            self.deal(connection)

    def deal(self, connection: socket.socket) -> bool:
        """Hand ``connection`` to the next server process that takes it; False (the client
        sees it closed) when none does."""
        with self._lock:
            slots = sorted(self._ends)
            for attempt in range(len(slots)):
                slot = slots[(self._turn + attempt) % len(slots)]
                try:
                    socket.send_fds(self._ends[slot], [b"c"], [connection.fileno()])
                except OSError:  # gone, or so far behind that its channel is full
                    continue
                self._turn = (self._turn + attempt + 1) % len(slots)
                return True
        log.error("no server process took a connection")
        return False


def serve_dealt(server, channel: socket.socket) -> Callable[[], None]:
    """Serve with ``server`` (a Tornado TCPServer) the connections the parent deals over
    ``channel``, on the running event loop; the function that stops taking them."""
    import asyncio

    from tornado.iostream import IOStream

    channel.setblocking(False)
    loop = asyncio.get_running_loop()

    def receive() -> None:
        while True:
            try:
                data, fds, _, _ = socket.recv_fds(channel, 64, 16)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                fds, data = [], b""
            if not data and not fds:  # the parent is gone: nothing more will come
                stop()
                return
            for fd in fds:
                connection = socket.socket(fileno=fd)
                try:
                    address = connection.getpeername()
                except OSError:  # closed by the client meanwhile
                    connection.close()
                    continue
                connection.setblocking(False)
                server.handle_stream(IOStream(connection, max_buffer_size=server.max_buffer_size,
                                              read_chunk_size=server.read_chunk_size), address)

    loop.add_reader(channel.fileno(), receive)

    def stop() -> None:
        if channel.fileno() >= 0:
            loop.remove_reader(channel.fileno())
            channel.close()

    return stop
