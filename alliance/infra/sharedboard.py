"""A small table in memory shared by the processes that one parent forks: who is working
on what, and what came of it.

Server processes share one listening socket, so two copies of one piece of work (the
copies of a provider's notification, sent at once) can reach two processes. Each process
knows its own (``payments.arrivals``); the board lets it see the others' too: a process
*claims* a key before it starts the work, *settles* it with the work's final result, or
*releases* it when the work did not reach one. Another process that finds the key claimed
waits and reads the result instead of doing the work again.

The board is an optimisation, never the authority: whatever it cannot answer (its lock
not had in time, a slot taken by another key under way, an owner gone or too slow) is
answered "unavailable", and the caller does the work as it would without a board (the
database's unique records decide then). It is a direct-mapped table of fixed slots in an
anonymous shared mapping, made before the fork; a slot holds a key's digest, its state,
its owner's pid, an integer and a small code of the result, and the time it was claimed.
Settled results are replaced by newer keys that fall on their slot.
"""
from __future__ import annotations

import hashlib
import mmap
import multiprocessing
import os
import struct
import time
from dataclasses import dataclass

EMPTY, UNDER_WAY, SETTLED = 0, 1, 2
_SLOT = struct.Struct("<16sBBxxiqd")  # digest, state, code, pid, value, claimed at
LOCK_WAIT_S = 0.05  # the lock is held for microseconds: past this, its holder died in it
STALE_S = 60.0  # work claimed this long ago is not waited for any more


@dataclass(frozen=True)
class Entry:
    state: int  # UNDER_WAY or SETTLED
    owner: int  # the pid that claimed it
    value: int
    code: int
    claimed_at: float  # time.monotonic() of the claim (one clock for every process)


CLAIMED = "claimed"  # the caller owns the key now: do the work, then settle or release
UNAVAILABLE = "unavailable"  # the board cannot tell: do the work without it


def digest(*parts: str) -> bytes:
    return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=16).digest()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class SharedBoard:
    def __init__(self, slots: int = 16384):
        self._slots = slots
        self._memory = mmap.mmap(-1, slots * _SLOT.size)  # MAP_SHARED | MAP_ANONYMOUS
        self._lock = multiprocessing.get_context("fork").Lock()

    def claim(self, key: bytes, owner: int | None = None) -> Entry | str:
        """``CLAIMED`` when the caller now owns ``key``; the entry of another owner's work
        under way or settled; ``UNAVAILABLE`` when the board cannot tell."""
        owner = os.getpid() if owner is None else owner
        offset = self._offset(key)
        if not self._lock.acquire(timeout=LOCK_WAIT_S):
            return UNAVAILABLE
        try:
            held, state, code, pid, value, claimed_at = _SLOT.unpack_from(self._memory, offset)
            now = time.monotonic()
            if state != EMPTY and held == key:
                if state == SETTLED:
                    return Entry(state, pid, value, code, claimed_at)
                if pid != owner and now - claimed_at < STALE_S and _alive(pid):
                    return Entry(state, pid, value, code, claimed_at)
            elif state == UNDER_WAY and now - claimed_at < STALE_S and _alive(pid):
                return UNAVAILABLE  # another key's work holds the slot
            _SLOT.pack_into(self._memory, offset, key, UNDER_WAY, 0, owner, 0, now)
            return CLAIMED
        finally:
            self._lock.release()

    def settle(self, key: bytes, value: int, code: int, owner: int | None = None) -> None:
        """Record the final result of the work ``owner`` claimed (nothing if it lost the
        slot meanwhile)."""
        self._finish(key, owner, SETTLED, value, code)

    def release(self, key: bytes, owner: int | None = None) -> None:
        """Give up a claim without a result: the next copy does the work."""
        self._finish(key, owner, EMPTY, 0, 0)

    def _finish(self, key: bytes, owner: int | None, state: int, value: int, code: int) -> None:
        owner = os.getpid() if owner is None else owner
        offset = self._offset(key)
        if not self._lock.acquire(timeout=LOCK_WAIT_S):
            return  # an unreleased claim goes stale; a lost result is read from the database
        try:
            held, held_state, _, pid, _, claimed_at = _SLOT.unpack_from(self._memory, offset)
            if held == key and held_state == UNDER_WAY and pid == owner:
                _SLOT.pack_into(self._memory, offset, key, state, code, owner, value, claimed_at)
        finally:
            self._lock.release()

    def _offset(self, key: bytes) -> int:
        return int.from_bytes(key[:8], "little") % self._slots * _SLOT.size
