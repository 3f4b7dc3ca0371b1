"""AWS's event-stream binary framing, as InvokeWithResponseStream sends it (botocore
`eventstream.py` reads it; /work/notes/streaming-spec.md §2.3–§2.4).

    total length  uint32 ┐ prelude, its CRC32 next
    headers length uint32┘
    prelude CRC32  uint32
    headers        name length uint8, name, type 7 (string), value length uint16, value
    payload
    message CRC32  uint32  (of everything before it)

All big-endian, CRC-32 as zlib computes it. Lambda's messages carry three string headers,
`:event-type` (`PayloadChunk` | `InvokeComplete`), `:content-type` and `:message-type: event`
(the order of a captured Lambda message ⚠; botocore does not depend on it).
"""

from __future__ import annotations

import json
import struct
import zlib

from emulator import wire

_STRING = 7
_PRELUDE = struct.Struct(">II")
_U32 = struct.Struct(">I")


def _header(name: str, value: str) -> bytes:
    raw_name, raw_value = name.encode(), value.encode()
    return (
        bytes((len(raw_name),)) + raw_name + bytes((_STRING,)) + struct.pack(">H", len(raw_value))
    ) + raw_value


def _headers(event_type: str, content_type: str) -> bytes:
    return (
        _header(":event-type", event_type)
        + _header(":content-type", content_type)
        + _header(":message-type", "event")
    )


_PAYLOAD_CHUNK_HEADERS = _headers(wire.EVENT_PAYLOAD_CHUNK, "application/octet-stream")
_INVOKE_COMPLETE_HEADERS = _headers(wire.EVENT_INVOKE_COMPLETE, "application/json")


def message(headers: bytes, payload: bytes) -> bytes:
    """One event-stream message."""
    total = 12 + len(headers) + len(payload) + 4
    prelude = _PRELUDE.pack(total, len(headers))
    head = prelude + _U32.pack(zlib.crc32(prelude)) + headers
    crc = zlib.crc32(payload, zlib.crc32(head))
    return head + payload + _U32.pack(crc)


def payload_chunk(payload: bytes) -> bytes:
    """`PayloadChunk`: raw bytes of the function's response."""
    return message(_PAYLOAD_CHUNK_HEADERS, payload)


def invoke_complete(
    error_code: str | None = None, error_details: str | None = None, log_result: str | None = None
) -> bytes:
    """`InvokeComplete` (botocore `InvokeWithResponseStreamCompleteEvent`): `{}` on success."""
    body: dict[str, str] = {}
    if error_code is not None:
        body["ErrorCode"] = error_code
    if error_details is not None:
        body["ErrorDetails"] = error_details
    if log_result is not None:
        body["LogResult"] = log_result
    return message(_INVOKE_COMPLETE_HEADERS, json.dumps(body, separators=(",", ":")).encode())
