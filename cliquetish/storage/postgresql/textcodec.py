"""Storing text with NUL characters in PostgreSQL, which refuses them in ``text`` and ``jsonb``.

Every string sent to the database (record values and keys, ids, field names, filter values) is
encoded, and every string read back decoded, so records keep ``\\u0000`` verbatim like on the
other backends. The code uses U+0001 as escape character::

    U+0001  ->  U+0001 U+0002
    U+0000  ->  U+0001 U+0001

It is injective and keeps the code point order of strings (U+0000 < U+0001 < any other
character maps to ``01 01`` < ``01 02`` < that character), so sorting and range filters on the
encoded text give the answers of the original. Strings without U+0000 or U+0001, that is nearly
all of them, are left untouched, and checking for them costs one substring search on the JSON
text.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["ESCAPE", "JSON_ESCAPE", "decode", "decode_json_text", "decode_text", "encode",
           "encode_text", "needs_encoding"]

ESCAPE = "\x01"
"""The escape character: stored text holding it needs decoding."""
JSON_ESCAPE = "\\u0001"
"""The escape character as JSON text writes it: stored JSON holding it needs decoding."""
_ENCODED = re.compile("\x01([\x01\x02])")
_DECODED = {"\x01": "\x00", "\x02": "\x01"}


def encode_text(text: str) -> str:
    """The stored form of ``text``."""
    if "\x00" not in text and ESCAPE not in text:
        return text
    return text.replace("\x01", "\x01\x02").replace("\x00", "\x01\x01")


def decode_text(text: str) -> str:
    """The original of stored ``text``."""
    if ESCAPE not in text:
        return text
    return _ENCODED.sub(lambda match: _DECODED[match.group(1)], text)


def _transform(value: Any, convert: Any) -> Any:
    if isinstance(value, str):
        return convert(value)
    if isinstance(value, dict):
        return {convert(key): _transform(item, convert) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_transform(item, convert) for item in value]
    return value


def needs_encoding(json_text: str) -> bool:
    """True when JSON text may hold U+0000 or U+0001 (always written escaped in JSON)."""
    return "\\u0000" in json_text or "\\u0001" in json_text


def encode(value: Any) -> Any:
    """``value`` with every string (keys included) encoded."""
    return _transform(value, encode_text)


def decode(value: Any) -> Any:
    """``value`` with every string (keys included) decoded."""
    return _transform(value, decode_text)


def decode_json_text(value: Any, json_text: str) -> Any:
    """Decode ``value``, parsed from ``json_text``, only when the text shows it is needed."""
    return decode(value) if JSON_ESCAPE in json_text else value
