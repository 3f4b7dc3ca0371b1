"""The Invoke API's words for a payload that is not JSON (emulator/api/payload_errors.py).

The two recorded payloads are in tests/conformance/test_invoke_api.py (through the wire);
these cases follow jackson-core's UTF8StreamJsonParser and ParserMinimalBase (FasterXML/
jackson-core, the parser Lambda's messages come from) for payloads AWS was not recorded with ⚠.
"""

from __future__ import annotations

import json
import random

import pytest

from emulator.api.payload_errors import PREFIX, parse_error_message

VALID = "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')"
SOURCE = "\n at [Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); "


def _detail(payload: bytes) -> str:
    message = parse_error_message(payload)
    assert message.startswith(PREFIX)
    return message.removeprefix(PREFIX)


@pytest.mark.parametrize(
    ("payload", "detail", "where"),
    [
        # recorded (LS TestLambdaErrors::test_lambda_invoke_payload_encoding_error, 2025-11)
        (b"n\x87r\x9e\xe9\xb5\xd7I\xee\x9bmt", "Invalid UTF-8 start byte 0x87", "1, column: 3"),
        (
            b"\x99\xeb,j\x07\xa1zYh",
            f"Unexpected character ((CTRL-CHAR, code 153)): expected a valid value {VALID}",
            "1, column: 1",
        ),
        # _reportInvalidToken: the word and the character that ended it are read ⚠
        (b"nulx ", f"Unrecognized token 'nulx': was expecting {VALID}", "1, column: 6"),
        (b"nul", f"Unrecognized token 'nul': was expecting {VALID}", "1, column: 4"),
        (b"truex", f"Unrecognized token 'truex': was expecting {VALID}", "1, column: 6"),
        (b"\n  hello}", f"Unrecognized token 'hello': was expecting {VALID}", "2, column: 9"),
        # _throwInvalidSpace ⚠
        (
            b" \x01",
            "Illegal character ((CTRL-CHAR, code 1)): only regular white space (\\r, \\n, \\t) "
            "is allowed between tokens",
            "1, column: 3",
        ),
        # NaN is a non-standard token ⚠
        (
            b"NaN",
            "Non-standard token 'NaN': enable `JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS` to allow",
            "1, column: 4",
        ),
    ],
)
def test_jacksons_words(payload: bytes, detail: str, where: str) -> None:
    assert _detail(payload) == f"{detail}{SOURCE}line: {where}]"


def test_errors_deeper_in_keep_pythons_description_in_jacksons_frame() -> None:
    detail = _detail(b'{"a": }')
    assert detail.startswith("Expecting value")
    assert detail.endswith(f"{SOURCE}line: 1, column: 7]")


def test_never_fails_on_any_bytes() -> None:
    rng = random.Random(17)
    for size in list(range(1, 12)) * 200:
        payload = bytes(rng.randrange(256) for _ in range(size))
        try:
            json.loads(payload)
        except (ValueError, UnicodeDecodeError):
            assert _detail(payload).endswith("]")
