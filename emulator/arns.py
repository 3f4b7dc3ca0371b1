"""Function ARNs, as the Invoke API reads and writes them.

`FunctionName` may be a name, `name:qualifier`, a partial ARN (`account:function:name`) or a
full ARN (`arn:aws:lambda:region:account:function:name[:qualifier]`); a `Qualifier` query
parameter qualifies it too (LAMBDA_SPEC §2). Both are checked against the patterns AWS quotes
in its ValidationException messages, as AWS does before it looks anything up (LocalStack's
AWS-recorded `test_function_name_and_qualifier_validation[*-invoke]`, 2025-11).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from emulator import errors

# The patterns as AWS prints them (server side: with `(eusc-)?`, unlike botocore's model).
FUNCTION_NAME_PATTERN = (
    r"(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?"
    r"(\d{12}:)?(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?"
)
QUALIFIER_PATTERN = r"\$(LATEST(\.PUBLISHED)?)|[a-zA-Z0-9-_$]+"
QUALIFIER_MAX = 128

# The same patterns with the parts named (and `-` escaped inside classes, for Python's re).
_FUNCTION_NAME = re.compile(
    r"(?:arn:(?:aws[a-zA-Z\-]*)?:lambda:)?"
    r"(?:(?P<region>(?:eusc-)?[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d):)?"
    r"(?:(?P<account>\d{12}):)?(?:function:)?(?P<name>[a-zA-Z0-9\-_.]+)"
    r"(?::(?P<qualifier>\$LATEST(?:\.PUBLISHED)?|[a-zA-Z0-9\-_]+))?"
)
_QUALIFIER = re.compile(r"\$(?:LATEST(?:\.PUBLISHED)?)|[a-zA-Z0-9\-_$]+")


class ValidationError(errors.ServiceError):
    status = 400
    error_type = "ValidationException"


def validation_error(violations: list[str]) -> ValidationError:
    """AWS's message: `1 validation error detected: Value '…' at '…' failed to satisfy
    constraint: …`, several joined by `; ` (⚠ the plural prefix is not recorded)."""
    count = len(violations)
    noun = "validation error" if count == 1 else "validation errors"
    return ValidationError(f"{count} {noun} detected: " + "; ".join(violations))


def _violation(value: str, field: str, constraint: str) -> str:
    return f"Value '{value}' at '{field}' failed to satisfy constraint: {constraint}"


def split_function_name(function_name: str) -> tuple[str, str | None]:
    """(name, qualifier) of a `FunctionName` as the harness and CLI take it (`name`,
    `name:live`, an ARN), without the Invoke API's checks; unreadable input is its own name."""
    match = _FUNCTION_NAME.fullmatch(function_name)
    if match is None:
        return function_name, None
    return match["name"], match["qualifier"]


@dataclass(frozen=True, slots=True)
class ArnScheme:
    region: str
    account_id: str

    @property
    def prefix(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:"

    def function_arn(self, name: str, qualifier: str | None = None) -> str:
        return self.prefix + name + (f":{qualifier}" if qualifier else "")

    def parse(self, function_name: str, qualifier: str | None) -> tuple[str, str | None]:
        """(name, qualifier) of an Invoke API `FunctionName` (already URL-decoded)."""
        violations = []
        if qualifier is not None:
            if len(qualifier) > QUALIFIER_MAX:
                violations.append(
                    _violation(
                        qualifier,
                        "qualifier",
                        f"Member must have length less than or equal to {QUALIFIER_MAX}",
                    )
                )
            elif not _QUALIFIER.fullmatch(qualifier):
                violations.append(
                    _violation(
                        qualifier,
                        "qualifier",
                        f"Member must satisfy regular expression pattern: {QUALIFIER_PATTERN}",
                    )
                )
        match = _FUNCTION_NAME.fullmatch(function_name)
        if match is None:
            violations.append(
                _violation(
                    function_name,
                    "functionName",
                    f"Member must satisfy regular expression pattern: {FUNCTION_NAME_PATTERN}",
                )
            )
        if violations or match is None:
            raise validation_error(violations)
        region = match["region"]
        if region is not None and region != self.region:
            raise errors.ResourceNotFound(
                f"Functions from '{region}' are not reachable in this region ('{self.region}')"
            )
        derived = match["qualifier"]
        if derived is not None and qualifier is not None and derived != qualifier:
            raise errors.InvalidParameterValue(
                "The derived qualifier from the function name does not match the specified "
                "qualifier."
            )
        return match["name"], derived if derived is not None else qualifier
