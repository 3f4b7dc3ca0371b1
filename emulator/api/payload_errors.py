"""What the Invoke API says about a payload that is not JSON, in the words AWS uses.

Lambda's front end parses the payload with Jackson (Java), so its `InvalidRequestContentException`
reads `Could not parse request body into json: Could not parse payload into json: <Jackson's
message>\\n at [Source: REDACTED (…); line: L, column: C]`. Recorded (LocalStack's AWS-validated
snapshot test_lambda :: TestLambdaErrors::test_lambda_invoke_payload_encoding_error, rec
24-11-2025):

- `n\\x87r…` → `Invalid UTF-8 start byte 0x87 … line: 1, column: 3` (inside the token `n…`);
- `\\x99\\xeb…` → `Unexpected character ((CTRL-CHAR, code 153)): expected a valid value (JSON
  String, Number, Array, Object or token 'null', 'true' or 'false') … line: 1, column: 1`.

Those two shapes (an unexpected first character, an invalid byte or unknown word where a
literal starts) follow Jackson's own rules and are exact for what they cover. Any other error
(a bad character deep in an object, a truncated document) keeps Python's description with the
position Python reports, in Jackson's location format: ⚠ the words then differ from AWS's.
"""

from __future__ import annotations

import json

PREFIX = "Could not parse request body into json: Could not parse payload into json: "
_LOCATION = "\n at [Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); "
_VALID = "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')"
_LITERALS = {ord("n"): b"null", ord("t"): b"true", ord("f"): b"false"}
_VALUE_START = frozenset(b'{["-0123456789')
_WHITESPACE = frozenset(b" \t\r\n")


def parse_error_message(payload: bytes) -> str:
    """The whole message of the 400 `InvalidRequestContentException` for `payload`."""
    detail, line, column = _first_error(payload)
    return f"{PREFIX}{detail}{_LOCATION}line: {line}, column: {column}]"


def _char_desc(code: int) -> str:
    # Jackson's ParserMinimalBase._getCharDesc (Character.isISOControl: 0-31, 127-159)
    if code < 32 or 127 <= code <= 159:
        return f"(CTRL-CHAR, code {code})"
    if code > 255:
        return f"'{chr(code)}' (code {code} / 0x{code:x})"
    return f"'{chr(code)}' (code {code})"


def _utf8_error(data: bytes, i: int) -> str | None:
    """Jackson's complaint about the multi-byte sequence starting at i, if it is invalid."""
    b = data[i]
    if b < 0x80:
        return None
    if b < 0xC0 or b >= 0xF8:  # a continuation byte, or no UTF-8 lead byte at all
        return f"Invalid UTF-8 start byte 0x{b:x}"
    need = 1 if b < 0xE0 else 2 if b < 0xF0 else 3
    for j in range(i + 1, i + 1 + need):
        if j >= len(data):
            return None  # truncated: Python's description (end of input) stands
        if data[j] & 0xC0 != 0x80:
            return f"Invalid UTF-8 middle byte 0x{data[j]:x}"
    return None


def _first_error(payload: bytes) -> tuple[str, int, int]:
    i, line, row_start = 0, 1, 0
    while i < len(payload) and payload[i] in _WHITESPACE:
        if payload[i] == ord("\n"):
            line, row_start = line + 1, i + 1
        i += 1
    if i < len(payload):
        b = payload[i]
        literal = _LITERALS.get(b)
        if literal is not None:
            found = _literal_error(payload, i, literal)
            if found is not None:
                detail, end = found
                return detail, line, end - row_start + 1
        elif b not in _VALUE_START:
            if chr(b).isascii() and chr(b).isalpha():  # Jackson: an unknown word
                end = _token_end(payload, i)
                token = payload[i:end].decode("ascii")
                return (
                    f"Unrecognized token '{token}': was expecting {_VALID}",
                    line,
                    end - row_start + 1,
                )
            # Jackson 2.13+ points at the character itself ("location minus one")
            return (
                f"Unexpected character ({_char_desc(b)}): expected a valid value {_VALID}",
                line,
                i - row_start + 1,
            )
    return _python_error(payload)


def _token_end(data: bytes, i: int) -> int:
    while i < len(data) and (chr(data[i]).isalnum() or data[i] in b"_$"):
        i += 1
    return i


def _literal_error(data: bytes, i: int, literal: bytes) -> tuple[str, int] | None:
    """Jackson's error for a word that starts like null/true/false, and the offset after it.

    Jackson matches the literal byte by byte; at the first difference it reads the rest of
    the word to name it, decoding UTF-8 as it goes (so an invalid byte is reported as such,
    with the column just past it)."""
    n = 0
    while n < len(literal) and i + n < len(data) and data[i + n] == literal[n]:
        n += 1
    if n == len(literal):
        end = i + n
        if end < len(data) and (chr(data[end]).isalnum() or data[end] in b"_$"):
            pass  # "nullx": an unknown word, below
        else:
            return None  # the literal itself: anything wrong is later in the document
    j = i + n
    while j < len(data):
        bad = _utf8_error(data, j)
        if bad is not None:
            return bad, j + 1
        if data[j] < 0x80 and not (chr(data[j]).isalnum() or data[j] in b"_$"):
            break
        j += 1 if data[j] < 0x80 else (2 if data[j] < 0xE0 else 3 if data[j] < 0xF0 else 4)
    token = data[i:j].decode("utf-8", errors="replace")
    return f"Unrecognized token '{token}': was expecting {_VALID}", j


def _python_error(payload: bytes) -> tuple[str, int, int]:
    """⚠ Python's description and position, for errors the rules above do not cover."""
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = payload[: exc.start]
        line = before.count(b"\n") + 1
        column = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", "replace")) + 2
        first = payload[exc.start]
        bad = _utf8_error(payload, exc.start) or f"Invalid UTF-8 start byte 0x{first:x}"
        return bad, line, column
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        return exc.msg, exc.lineno, exc.colno
    except ValueError as exc:  # e.g. a number too long for Python's int conversion
        return str(exc), 1, 1
    return "Unexpected end-of-input", 1, 1
