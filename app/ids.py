"""Identifiers: time-ordered UUIDs (version 7 layout, RFC 9562).

Time order keeps B-tree inserts local and lets keyset pagination walk rows in creation order
with the primary key alone. Python 3.11 has no uuid7, so it is built here. Within one
millisecond the 12-bit `rand_a` field is a counter, so ids from one process stay increasing.
"""

from __future__ import annotations

import os
import threading
import time
import uuid

_lock = threading.Lock()
_last_millis = 0
_sequence = 0


def new_id() -> str:
    """A new UUIDv7 as its canonical 36-character string."""
    global _last_millis, _sequence
    with _lock:
        millis = time.time_ns() // 1_000_000
        if millis <= _last_millis:
            _sequence += 1
            if _sequence > 0xFFF:  # counter exhausted: borrow the next millisecond
                _last_millis += 1
                _sequence = 0
            millis = _last_millis
        else:
            _last_millis = millis
            _sequence = int.from_bytes(os.urandom(1), "big")  # leave room to count up
        sequence = _sequence
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version
    value |= sequence << 64  # rand_a
    value |= 0b10 << 62  # variant
    value |= int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    return str(uuid.UUID(int=value))
