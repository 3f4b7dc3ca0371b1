"""The IAM policy document a Lambda authorizer answers with, evaluated as API Gateway does for
`execute-api:Invoke` on one method/route ARN (docs/frontdoor-authorizers.md).

Sources: AG `api-gateway-lambda-authorizer-output.md` (the output shape; `*` wildcards in
`Resource`), AG `api-gateway-control-access-using-iam-policies-to-invoke-api.md` (the ARN
`arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/{METHOD}/{path}`), IAM's policy
evaluation logic (an explicit Deny wins over any Allow; nothing allowed is an implicit deny).

Pure: a document in, a `Verdict` out, or `PolicyError` for a document API Gateway refuses
(which it answers with 500).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

INVOKE_ACTION = "execute-api:Invoke"

Verdict = Literal["allow", "explicit_deny", "implicit_deny"]


class PolicyError(ValueError):
    """A policy document API Gateway cannot evaluate (its answer: 500)."""


@dataclass(frozen=True, slots=True)
class Statement:
    effect: Literal["Allow", "Deny"]
    actions: tuple[str, ...]
    resources: tuple[str, ...]


def parse_policy(document: Any) -> tuple[Statement, ...]:
    """The statements of `policyDocument`. IAM allows `Statement` as one object or a list, and
    `Action`/`Resource` as one string or a list."""
    if not isinstance(document, Mapping):
        raise PolicyError("policyDocument is not an object")
    raw = document.get("Statement")
    if isinstance(raw, Mapping):
        raw = [raw]
    if not isinstance(raw, list):
        raise PolicyError("policyDocument.Statement is missing")
    return tuple(_statement(item) for item in raw)


def _statement(item: Any) -> Statement:
    if not isinstance(item, Mapping):
        raise PolicyError("a Statement is not an object")
    # IAM compares Effect exactly: "allow" is not "Allow" (⚠ API Gateway's own leniency unknown)
    effect = item.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise PolicyError(f"Effect {effect!r} is neither Allow nor Deny")
    return Statement(
        effect, _strings(item.get("Action"), "Action"), _strings(item.get("Resource"), "Resource")
    )


def _strings(value: Any, key: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Sequence) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise PolicyError(f"{key} is not a string or a list of strings")


def evaluate(statements: Sequence[Statement], arn: str) -> Verdict:
    """IAM's evaluation for `execute-api:Invoke` on `arn`: a matching Deny wins; else a matching
    Allow allows; else the request is implicitly denied."""
    allowed = False
    for st in statements:
        if not any(_matches(pattern, INVOKE_ACTION, ignore_case=True) for pattern in st.actions):
            continue
        if not any(_matches(pattern, arn, ignore_case=False) for pattern in st.resources):
            continue
        if st.effect == "Deny":
            return "explicit_deny"
        allowed = True
    return "allow" if allowed else "implicit_deny"


def _matches(pattern: str, value: str, *, ignore_case: bool) -> bool:
    return _compile(pattern, ignore_case).fullmatch(value) is not None


@lru_cache(maxsize=1024)
def _compile(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    # IAM wildcards: `*` any run of characters (across `/` and `:`), `?` one character.
    body = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.compile(body, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)
