"""What the Invoke API says about a payload that is not JSON, in the words AWS uses.

Lambda's front end parses the payload with Jackson (Java), so its `InvalidRequestContentException`
reads `Could not parse request body into json: Could not parse payload into json: <Jackson's
message>\\n at [Source: REDACTED (…); line: L, column: C]`. Recorded (LocalStack's AWS-validated
snapshot test_lambda :: TestLambdaErrors::test_lambda_invoke_payload_encoding_error, rec
24-11-2025):

- `n\\x87r…` → `Invalid UTF-8 start byte 0x87 … line: 1, column: 3` (inside the token `n…`);
- `\\x99\\xeb…` → `Unexpected character ((CTRL-CHAR, code 153)): expected a valid value (JSON
  String, Number, Array, Object or token 'null', 'true' or 'false') … line: 1, column: 1`.

Errors in the first value's first token follow jackson-core's `UTF8StreamJsonParser`
(`_skipWSOrEnd`, `_handleUnexpectedValue`, `_matchToken`, `_reportInvalidToken`,
`_decodeCharForError`) and `ParserMinimalBase` (`_getCharDesc`; `_reportUnexpectedChar` points at
the character, `_reportError` just past what was read): that reproduces both recordings, and
the rest is read from the same code ⚠ (unrecorded). Errors further in (inside an object or
array, a bad number, a truncated string) keep Python's description and position inside
Jackson's frame ⚠.
"""

from __future__ import annotations

import json
import unicodedata

PREFIX = "Could not parse request body into json: Could not parse payload into json: "
_LOCATION = "\n at [Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); "
_VALID = "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')"
_LITERALS = {ord("n"): "null", ord("t"): "true", ord("f"): "false", ord("N"): "NaN"}
_LITERALS[ord("I")] = "Infinity"
_PYTHON_READS = frozenset(b'{["-0123456789+]}')  # values (and closers) Python describes ⚠
_MAX_TOKEN = 256  # jackson-core ErrorReportConfiguration.DEFAULT_MAX_ERROR_TOKEN_LENGTH


class _Found(Exception):
    """Jackson's error: its message and the 0-based offset its location column counts to."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


def parse_error_message(payload: bytes) -> str:
    """The whole message of the 400 `InvalidRequestContentException` for `payload`."""
    detail, line, column = _first_error(payload)
    return f"{PREFIX}{detail}{_LOCATION}line: {line}, column: {column}]"


def _char_desc(code: int) -> str:
    # ParserMinimalBase._getCharDesc (Character.isISOControl: 0-31, 127-159)
    if code < 32 or 127 <= code <= 159:
        return f"(CTRL-CHAR, code {code})"
    if code > 255:
        return f"'{chr(code)}' (code {code} / 0x{code:x})"
    return f"'{chr(code)}' (code {code})"


def _identifier_start(code: int) -> bool:
    """Java's Character.isJavaIdentifierStart."""
    category = unicodedata.category(chr(code))
    return category[0] == "L" or category in ("Nl", "Sc", "Pc")


def _identifier_part(code: int) -> bool:
    """Java's Character.isJavaIdentifierPart (identifier-ignorable controls included)."""
    if code <= 0x08 or 0x0E <= code <= 0x1B or 0x7F <= code <= 0x9F:
        return True
    category = unicodedata.category(chr(code))
    return category[0] == "L" or category in ("Nd", "Nl", "Mn", "Mc", "Sc", "Pc", "Cf")


def _decode_for_error(data: bytes, i: int) -> tuple[int, int]:
    """UTF8StreamJsonParser._decodeCharForError: (code point, offset after it)."""
    b = data[i]
    if b < 0x80:
        return b, i + 1
    if b & 0xE0 == 0xC0:
        code, need = b & 0x1F, 1
    elif b & 0xF0 == 0xE0:
        code, need = b & 0x0F, 2
    elif b & 0xF8 == 0xF0:
        code, need = b & 0x07, 3
    else:
        raise _Found(f"Invalid UTF-8 start byte 0x{b:x}", i + 1)
    j = i + 1
    for _ in range(need):
        if j >= len(data):
            raise _Found("", -1)  # end of input inside a character: Python's words ⚠
        d = data[j]
        j += 1
        if d & 0xC0 != 0x80:
            raise _Found(f"Invalid UTF-8 middle byte 0x{d:x}", j)
        code = (code << 6) | (d & 0x3F)
    return min(code, 0x10FFFF), j


def _invalid_token(data: bytes, matched: str, i: int) -> _Found:
    """UTF8StreamJsonParser._reportInvalidToken: the word as far as Java identifier rules go
    (the character that ends it is consumed too)."""
    token = matched
    while i < len(data):
        code, i = _decode_for_error(data, i)
        if not _identifier_part(code):
            break
        token += chr(code)
        if len(token) >= _MAX_TOKEN:
            token += "..."
            break
    return _Found(f"Unrecognized token '{token}': was expecting {_VALID}", i)


def _match_literal(data: bytes, i: int, literal: str) -> None:
    """UTF8StreamJsonParser._matchToken / _matchToken2 / _checkMatchEnd."""
    for n in range(1, len(literal)):
        if i + n >= len(data) or data[i + n] != ord(literal[n]):
            raise _invalid_token(data, literal[:n], i + n)
    end = i + len(literal)
    if end < len(data) and data[end] >= ord("0") and data[end] not in b"]}":
        code, _ = _decode_for_error(data, end)
        if _identifier_part(code):
            raise _invalid_token(data, literal, end)
    if literal in ("NaN", "Infinity"):
        raise _Found(
            f"Non-standard token '{literal}': enable "
            "`JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS` to allow",
            end,
        )


def _first_value(data: bytes) -> int:
    """Raise Jackson's error for the first token of the document; else where it starts."""
    i = 0
    while i < len(data) and data[i] in b" \t\r\n":
        i += 1
    if i == len(data):
        return i
    b = data[i]
    if b < 0x20:  # UTF8StreamJsonParser._skipWSOrEnd → _throwInvalidSpace
        message = (
            f"Illegal character ({_char_desc(b)}): only regular white space "
            "(\\r, \\n, \\t) is allowed between tokens"
        )
        if b == 0x1E:
            message += (
                " (consider enabling `JsonReadFeature.ALLOW_RS_CONTROL_CHAR` to allow use of"
                " Record Separators (\\u001E))"
            )
        raise _Found(message, i + 1)
    if b == ord("/"):  # comments are not enabled: _skipComment
        raise _Found(
            "Unexpected character ('/' (code 47)): maybe a (non-standard) comment? (not "
            "recognized as one since Feature 'ALLOW_COMMENTS' not enabled for parser)",
            i,
        )
    literal = _LITERALS.get(b)
    if literal is not None:
        _match_literal(data, i, literal)
        return i
    if b in _PYTHON_READS or b == ord('"'):
        return i
    if _identifier_start(b):  # the byte as a Latin-1 char, as Jackson reads it here
        raise _invalid_token(data, chr(b), i + 1)
    # _reportUnexpectedChar: the location is the character itself (Jackson 2.13+)
    raise _Found(f"Unexpected character ({_char_desc(b)}): expected a valid value {_VALID}", i)


def _first_error(payload: bytes) -> tuple[str, int, int]:
    try:
        _first_value(payload)
    except _Found as found:
        if found.offset >= 0:
            before = payload[: found.offset]
            line = before.count(b"\n") + 1
            return found.message, line, found.offset - (before.rfind(b"\n") + 1) + 1
    return _python_error(payload)


def _python_error(payload: bytes) -> tuple[str, int, int]:
    """⚠ Python's description and position, for errors the rules above do not cover."""
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = payload[: exc.start]
        line = before.count(b"\n") + 1
        column = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", "replace")) + 2
        return f"Invalid UTF-8 start byte 0x{payload[exc.start]:x}", line, column
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        return exc.msg, exc.lineno, exc.colno
    except ValueError as exc:  # e.g. a number too long for Python's int conversion
        return str(exc), 1, 1
    except RecursionError:
        # ⚠ nested deeper than Python's parser goes (a little under 1,000 levels): refused as
        # Jackson 2.15+ refuses more than 1,000 (StreamReadConstraints); which Jackson
        # Lambda's front end runs is not documented
        return (
            "Document nesting depth (1001) exceeds the maximum allowed (1000, from "
            "`StreamReadConstraints.getMaxNestingDepth()`)",
            1,
            1,
        )
    return "Unexpected end-of-input", 1, 1
