"""BigQuery's ``KEYS.*`` and ``AEAD.*`` functions: Tink keysets, AES-GCM and AES-SIV.

A keyset is the serialized ``google.crypto.tink.Keyset`` protocol buffer BigQuery returns (the
same bytes real keysets have, so a keyset made by BigQuery works here and the other way round):
``primary_key_id`` and repeated ``Key {KeyData {type_url, value, key_material_type}, status,
key_id, output_prefix_type}``. Ciphertexts are Tink's: a TINK key prefixes ``0x01`` and its
4-byte key id, a RAW key nothing; AES-GCM adds a 12-byte IV and a 16-byte tag, AES-SIV is
deterministic (RFC 5297 with the additional data as the one header).

The functions are DuckDB Python UDFs (:func:`register`) and :func:`rewrite_namespaced_calls`
turns ``KEYS.f(...)`` / ``AEAD.f(...)`` (``SAFE.`` too) into calls of them. AES-CBC-PKCS keys can
be added to a keyset (``ADD_KEY_FROM_RAW_BYTES``) but are not used to encrypt.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import duckdb
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, AESSIV
from sqlglot import exp

from fakes.bigquery import protowire
from fakes.bigquery.bottom_up import handles
from fakes.bigquery.exceptions import KeyTypeNotConstant

_TYPE_PREFIX = "type.googleapis.com/google.crypto.tink."
_GCM = _TYPE_PREFIX + "AesGcmKey"
_SIV = _TYPE_PREFIX + "AesSivKey"
_CBC = _TYPE_PREFIX + "AesCbcPkcs7Key"
_MATERIAL = {
    0: "UNKNOWN_KEYMATERIAL",
    1: "SYMMETRIC",
    2: "ASYMMETRIC_PRIVATE",
    3: "ASYMMETRIC_PUBLIC",
    4: "REMOTE",
}
_STATUS = {0: "UNKNOWN_STATUS", 1: "ENABLED", 2: "DISABLED", 3: "DESTROYED"}
_PREFIX = {0: "UNKNOWN_PREFIX", 1: "TINK", 2: "LEGACY", 3: "RAW", 4: "CRUNCHY"}
_ENABLED, _TINK, _RAW, _SYMMETRIC = 1, 1, 3, 1
_NEW_KEY_SIZES = {"AEAD_AES_GCM_256": (_GCM, 32), "DETERMINISTIC_AEAD_AES_SIV_CMAC_256": (_SIV, 64)}


class KeysetError(ValueError):
    """A KEYS/AEAD function refused its input (BigQuery: ``OUT_OF_RANGE``)."""


# ------------------------------------------------------------------------ protobuf wire format


def _fields(data: bytes) -> list[tuple[int, int | bytes]]:
    try:
        return protowire.fields(data)
    except protowire.WireError as exc:
        raise KeysetError("Keyset deserialization failed") from exc


@dataclass
class Key:
    """One ``Keyset.Key``; ``None`` marks a field the serialized key did not carry."""

    key_id: int | None = None
    status: int | None = None
    output_prefix: int | None = None
    type_url: str | None = None
    value: bytes | None = None
    material: int | None = None

    def to_bytes(self) -> bytes:
        data = b""
        if self.type_url is not None or self.value is not None or self.material is not None:
            key_data = b""
            if self.type_url:
                key_data += protowire.field(1, self.type_url.encode())
            if self.value:
                key_data += protowire.field(2, self.value)
            if self.material:
                key_data += protowire.field(3, self.material)
            data += protowire.field(1, key_data)
        for number, value in ((2, self.status), (3, self.key_id), (4, self.output_prefix)):
            if value:
                data += protowire.field(number, value)
        return data


@dataclass
class Keyset:
    primary: int | None = None
    keys: list[Key] = field(default_factory=list)

    def to_bytes(self) -> bytes:
        data = protowire.field(1, self.primary) if self.primary else b""
        return data + b"".join(protowire.field(2, key.to_bytes()) for key in self.keys)

    @classmethod
    def from_bytes(cls, data: bytes) -> Keyset:
        keyset = cls()
        for number, value in _fields(data):
            if number == 1 and isinstance(value, int):
                keyset.primary = value
            elif number == 2 and isinstance(value, bytes):
                keyset.keys.append(_key_from_bytes(value))
        return keyset

    def new_key_id(self) -> int:
        taken = {key.key_id for key in self.keys}
        while (key_id := secrets.randbelow(2**31 - 1) + 1) in taken:
            pass
        return key_id


def _key_from_bytes(data: bytes) -> Key:
    key = Key()
    for number, value in _fields(data):
        if number == 1 and isinstance(value, bytes):
            for inner, item in _fields(value):
                if inner == 1 and isinstance(item, bytes):
                    key.type_url = item.decode()
                elif inner == 2 and isinstance(item, bytes):
                    key.value = item
                elif inner == 3 and isinstance(item, int):
                    key.material = item
        elif number == 2 and isinstance(value, int):
            key.status = value
        elif number == 3 and isinstance(value, int):
            key.key_id = value
        elif number == 4 and isinstance(value, int):
            key.output_prefix = value
    return key


def _material_field(type_url: str) -> int:
    """Where the raw key bytes sit: ``AesSivKey.key_value`` is field 2, the others' field 3."""
    return 2 if type_url == _SIV else 3


def _key_material(key: Key) -> bytes:
    """The raw key bytes inside an ``AesGcmKey`` / ``AesSivKey``."""
    for number, value in _fields(key.value or b""):
        if number == _material_field(key.type_url or "") and isinstance(value, bytes):
            return value
    raise KeysetError("Invalid key material")


# ------------------------------------------------------------------------------ KEYS.* functions


def _new_key(keyset: Keyset, key_type: str) -> Key:
    if key_type not in _NEW_KEY_SIZES:
        raise KeysetError(f"Unsupported key type: {key_type}")
    type_url, size = _NEW_KEY_SIZES[key_type]
    return Key(
        key_id=keyset.new_key_id(),
        status=_ENABLED,
        output_prefix=_TINK,
        type_url=type_url,
        value=protowire.field(_material_field(type_url), secrets.token_bytes(size)),
        material=_SYMMETRIC,
    )


def new_keyset(key_type: str) -> bytes:
    keyset = Keyset()
    key = _new_key(keyset, key_type)
    keyset.keys.append(key)
    keyset.primary = key.key_id
    return keyset.to_bytes()


def rotate_keyset(data: bytes, key_type: str) -> bytes:
    """A new primary key of ``key_type`` (an empty keyset comes back with that one key)."""
    keyset = Keyset.from_bytes(data)
    key = _new_key(keyset, key_type)
    keyset.keys.append(key)
    keyset.primary = key.key_id
    return keyset.to_bytes()


def add_key_from_raw_bytes(data: bytes, key_type: str, raw: bytes) -> bytes:
    if key_type not in ("AES_GCM", "AES_CBC_PKCS"):
        raise KeysetError(f"Invalid key type provided to KEYS.ADD_KEY_FROM_RAW_BYTES: {key_type}")
    sizes = (16, 32) if key_type == "AES_GCM" else (16, 24, 32)
    if len(raw) not in sizes:
        expected = " or ".join(str(s) for s in sizes) if len(sizes) == 2 else "16, 24, or 32"
        raise KeysetError(
            "Failed to add a key from raw bytes: "
            f"Unsupported key size: {len(raw)} bytes; expected {expected} bytes."
        )
    keyset = _valid_keyset(data)
    type_url = _GCM if key_type == "AES_GCM" else _CBC
    keyset.keys.append(
        Key(
            key_id=keyset.new_key_id(),
            status=_ENABLED,
            output_prefix=_RAW,
            type_url=type_url,
            value=protowire.field(3, raw),
            material=_SYMMETRIC,
        )
    )
    return keyset.to_bytes()


def keyset_length(data: bytes) -> int:
    return len(Keyset.from_bytes(data).keys)


def keyset_to_json(data: bytes) -> str:
    keyset = _valid_keyset(data)
    return json.dumps(_keyset_json(keyset), separators=(",", ":"), sort_keys=True)


def _keyset_json(keyset: Keyset) -> dict[str, Any]:
    keys = []
    for key in keyset.keys:
        item: dict[str, Any] = {}
        if key.type_url is not None or key.value is not None or key.material is not None:
            item["keyData"] = {
                "keyMaterialType": _MATERIAL.get(key.material or 0, "UNKNOWN_KEYMATERIAL"),
                "typeUrl": key.type_url or "",
                "value": base64.b64encode(key.value or b"").decode(),
            }
        item["keyId"] = key.key_id or 0
        item["outputPrefixType"] = _PREFIX.get(key.output_prefix or 0, "UNKNOWN_PREFIX")
        item["status"] = _STATUS.get(key.status or 0, "UNKNOWN_STATUS")
        keys.append(item)
    return {"key": keys, "primaryKeyId": keyset.primary or 0}


def keyset_from_json(text: str) -> bytes:
    try:
        document = json.loads(text)
        keyset = Keyset(primary=int(document.get("primaryKeyId") or 0))
        for item in document.get("key") or []:
            key_data = item.get("keyData")
            key = Key(
                key_id=int(item.get("keyId") or 0),
                status=_enum(_STATUS, item.get("status")),
                output_prefix=_enum(_PREFIX, item.get("outputPrefixType")),
            )
            if key_data is not None:
                key.type_url = key_data.get("typeUrl")
                key.value = base64.b64decode(key_data.get("value") or "")
                key.material = _enum(_MATERIAL, key_data.get("keyMaterialType"))
            keyset.keys.append(key)
    except (ValueError, TypeError, AttributeError) as exc:
        raise KeysetError(f"Keyset deserialization failed: {exc}") from exc
    return keyset.to_bytes()


def _enum(names: dict[int, str], name: str | None) -> int | None:
    if name is None:
        return None
    for number, text in names.items():
        if text == name:
            return number
    raise KeysetError(f"Unknown enum value {name}")


def _valid_keyset(data: bytes) -> Keyset:
    keyset = Keyset.from_bytes(data)
    if not keyset.keys:
        raise KeysetError("A valid keyset must contain at least one key.")
    return keyset


# ------------------------------------------------------------------------------ AEAD.* functions


def _prefix(key: Key) -> bytes:
    return b"\x01" + (key.key_id or 0).to_bytes(4, "big") if key.output_prefix != _RAW else b""


def _primary(data: bytes, function: str) -> tuple[Keyset, Key]:
    try:
        keyset = _valid_keyset(data)
    except KeysetError as exc:
        raise KeysetError(f"{function} failed: Creation of AEAD primitive failed: {exc}") from exc
    for key in keyset.keys:
        if key.key_id == keyset.primary and key.status == _ENABLED:
            return keyset, key
    raise KeysetError(f"{function} failed: Creation of AEAD primitive failed: keyset has no primary")


def _seal(key: Key, plaintext: bytes, aad: bytes) -> bytes:
    material = _key_material(key)
    if key.type_url == _SIV:
        return _prefix(key) + AESSIV(material).encrypt(plaintext, [aad])
    iv = secrets.token_bytes(12)
    return _prefix(key) + iv + AESGCM(material).encrypt(iv, plaintext, aad)


def _open(key: Key, ciphertext: bytes, aad: bytes) -> bytes:
    material = _key_material(key)
    if key.type_url == _SIV:
        return AESSIV(material).decrypt(ciphertext, [aad])
    return AESGCM(material).decrypt(ciphertext[:12], ciphertext[12:], aad)


def encrypt(function: str, siv: bool) -> Callable[[bytes, bytes, bytes], bytes]:
    def run(keyset: bytes, plaintext: bytes, aad: bytes) -> bytes:
        _, key = _primary(keyset, function)
        if (key.type_url == _SIV) != siv:
            raise KeysetError(f"{function} failed: Creation of AEAD primitive failed: wrong key type")
        return _seal(key, plaintext, aad)

    return run


def decrypt(function: str) -> Callable[[bytes, bytes, bytes], bytes]:
    def run(data: bytes, ciphertext: bytes, aad: bytes) -> bytes:
        keyset, _ = _primary(data, function)
        for key in keyset.keys:
            if key.status != _ENABLED or key.type_url not in (_GCM, _SIV):
                continue
            prefix = _prefix(key)
            if not ciphertext.startswith(prefix):
                continue
            try:
                return _open(key, ciphertext[len(prefix) :], aad)
            except (InvalidTag, ValueError):
                continue
        raise KeysetError(f"{function} failed: decryption failed")

    return run


def decrypt_string(function: str) -> Callable[[bytes, bytes, bytes], str]:
    opener = decrypt(function)

    def run(data: bytes, ciphertext: bytes, aad: bytes) -> str:
        try:
            return opener(data, ciphertext, aad).decode()
        except UnicodeDecodeError as exc:
            raise KeysetError(
                f"{function} failed: Decrypted plaintext is not a valid UTF-8 string. "
                f"To decrypt to BYTES, use {function.replace('_STRING', '_BYTES')}"
            ) from exc

    return run


# ---------------------------------------------------------------------------- DuckDB and sqlglot

# Type names, not ``duckdb.sqltype`` objects: those would open DuckDB's default connection (a
# database of its own, ~20 ms) at import time.
_B, _S, _I = "BLOB", "VARCHAR", "BIGINT"

_UDFS: dict[str, tuple[Callable[..., Any], list[str], str, bool]] = {
    "keys.new_keyset": (new_keyset, [_S], _B, True),
    "keys.rotate_keyset": (rotate_keyset, [_B, _S], _B, True),
    "keys.add_key_from_raw_bytes": (add_key_from_raw_bytes, [_B, _S, _B], _B, True),
    "keys.keyset_length": (keyset_length, [_B], _I, False),
    "keys.keyset_to_json": (keyset_to_json, [_B], _S, False),
    "keys.keyset_from_json": (keyset_from_json, [_S], _B, False),
    "aead.encrypt": (encrypt("AEAD.ENCRYPT", siv=False), [_B, _B, _B], _B, True),
    "aead.decrypt_bytes": (decrypt("AEAD.DECRYPT_BYTES"), [_B, _B, _B], _B, False),
    "aead.decrypt_string": (decrypt_string("AEAD.DECRYPT_STRING"), [_B, _B, _B], _S, False),
    "deterministic_encrypt": (encrypt("DETERMINISTIC_ENCRYPT", siv=True), [_B, _B, _B], _B, False),
    "deterministic_decrypt_bytes": (decrypt("DETERMINISTIC_DECRYPT_BYTES"), [_B, _B, _B], _B, False),
    "deterministic_decrypt_string": (decrypt_string("DETERMINISTIC_DECRYPT_STRING"), [_B, _B, _B], _S, False),
}
_BYTES_ARGS = {"aead.encrypt", "aead.decrypt_bytes", "deterministic_encrypt", "deterministic_decrypt_bytes"}
_BYTES_ARGS |= {"aead.decrypt_string", "deterministic_decrypt_string"}


def _udf_name(name: str, *, safe: bool) -> str:
    return ("bq_safe_" if safe else "bq_") + name.replace(".", "_")


FUNCTIONS = tuple(_udf_name(name, safe=safe) for name in _UDFS for safe in (False, True))
"""The Python functions :func:`register` creates (:mod:`fakes.bigquery.lazy_functions`)."""


def register(conn: duckdb.DuckDBPyConnection) -> None:
    """Register the KEYS/AEAD functions on the engine's connection, each also as its ``SAFE.``
    form (NULL instead of an error: DuckDB's ``TRY`` refuses volatile functions)."""
    for name, (function, params, returns, volatile) in _UDFS.items():
        for safe in (False, True):
            conn.create_function(
                _udf_name(name, safe=safe),
                function,
                params,
                returns,
                side_effects=volatile,
                exception_handling="return_null" if safe else "default",
            )


@handles(exp.Anonymous, exp.SafeFunc, exp.Dot)
def rewrite_namespaced_calls(node: exp.Expression) -> exp.Expression:
    """``KEYS.NEW_KEYSET(...)``, ``AEAD.ENCRYPT(...)``, ``DETERMINISTIC_ENCRYPT(...)`` (and with
    ``SAFE.``) as calls of the registered UDFs."""
    call, namespace, safe = _namespaced(node)
    if call is None:
        return node
    name = f"{namespace}.{call.name.lower()}" if namespace else call.name.lower()
    if name not in _UDFS:
        return node
    args = list(call.expressions)
    if name == "keys.new_keyset" and args and not _is_constant_string(args[0]):
        raise KeyTypeNotConstant(function="KEYS.NEW_KEYSET")
    if name in _BYTES_ARGS:
        args = [args[0], *(_as_bytes(arg) for arg in args[1:])]
    return exp.Anonymous(this=_udf_name(name, safe=safe), expressions=args)


def _is_constant_string(arg: exp.Expression) -> bool:
    """A string literal or a query parameter (by then renamed to a placeholder)."""
    if isinstance(arg, exp.Literal):
        return arg.is_string
    return isinstance(arg, exp.Placeholder | exp.Parameter)


def _namespaced(node: exp.Expression) -> tuple[exp.Anonymous | None, str, bool]:
    if isinstance(node, exp.Anonymous) and not isinstance(node.parent, exp.Dot | exp.SafeFunc):
        return node, "", False
    if isinstance(node, exp.SafeFunc) and isinstance(node.this, exp.Anonymous):
        return node.this, "", True
    if not isinstance(node, exp.Dot) or not isinstance(node.expression, exp.Anonymous):
        return None, "", False
    parts = [p.name.upper() for p in _dotted(node.this)]
    if parts and parts[-1] in ("KEYS", "AEAD") and parts[:-1] in ([], ["SAFE"]):
        return node.expression, parts[-1].lower(), parts[:-1] == ["SAFE"]
    return None, "", False


def _dotted(node: exp.Expression) -> list[exp.Expression]:
    if isinstance(node, exp.Dot):
        return [*_dotted(node.this), node.expression]
    if isinstance(node, exp.Identifier | exp.Column | exp.Var):
        return [node]
    return [exp.Identifier(this="?")]


def _as_bytes(arg: exp.Expression) -> exp.Expression:
    """A STRING argument as its UTF-8 bytes (BYTES stay), whatever the argument's type is."""
    text = exp.cast(arg.copy(), "VARCHAR", dialect="duckdb")
    return exp.Case(
        ifs=[
            exp.If(
                this=exp.EQ(
                    this=exp.Anonymous(this="TYPEOF", expressions=[arg.copy()]),
                    expression=exp.Literal.string("VARCHAR"),
                ),
                true=exp.Anonymous(this="ENCODE", expressions=[text]),
            )
        ],
        default=exp.cast(arg, "BLOB", dialect="duckdb"),
    )
