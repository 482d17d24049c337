"""The protocol-buffer wire format, as far as BigQuery's binary values need it: varints and
length-delimited fields (Tink keysets for KEYS./AEAD., HLL++ sketches for HLL_COUNT)."""

from __future__ import annotations


class WireError(ValueError):
    """Bytes that are not a message of varint and length-delimited fields."""


def encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if not value:
            out.append(byte)
            return bytes(out)
        out.append(byte | 0x80)


def field(number: int, value: int | bytes) -> bytes:
    """One field: a varint for an int, length-delimited for bytes."""
    if isinstance(value, int):
        return encode_varint(number << 3) + encode_varint(value)
    return encode_varint(number << 3 | 2) + encode_varint(len(value)) + value


def read_varint(data: bytes, at: int) -> tuple[int, int]:
    """The varint at ``at`` and the position after it."""
    value = shift = 0
    while True:
        if at >= len(data) or shift > 63:
            raise WireError("truncated varint")
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, at


def fields(data: bytes) -> list[tuple[int, int | bytes]]:
    """``(field number, value)`` pairs of a message, in order."""
    out: list[tuple[int, int | bytes]] = []
    at = 0
    while at < len(data):
        tag, at = read_varint(data, at)
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            value, at = read_varint(data, at)
            out.append((number, value))
        elif wire == 2:
            size, at = read_varint(data, at)
            if at + size > len(data):
                raise WireError("truncated field")
            out.append((number, data[at : at + size]))
            at += size
        else:
            raise WireError(f"wire type {wire} not supported")
    return out
