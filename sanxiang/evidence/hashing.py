"""Hashing a stream in bounded pieces: the one implementation (the
evidence services' fixity job and stored-package check, the archive
builder), and the piece size every streamed read of the evidence app uses
(the builder, the offline checker). Plain Python (no Django)."""

from __future__ import annotations

import hashlib

CHUNK = 1024 * 1024  # 1 MiB: nothing of a file is held in memory whole


def hash_stream(stream, *, buffer: int = CHUNK) -> tuple[str, int]:
    """SHA-256 (hex) and length of a stream, read in ``buffer``-sized pieces."""
    digest, total = hashlib.sha256(), 0
    while block := stream.read(buffer):
        digest.update(block)
        total += len(block)
    return digest.hexdigest(), total
