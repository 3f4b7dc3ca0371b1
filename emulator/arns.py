"""Function ARNs, as the Invoke API reads and writes them.

`FunctionName` may be a name, `name:qualifier`, a partial ARN (`account:function:name`) or a
full ARN (`arn:aws:lambda:region:account:function:name[:qualifier]`); a `Qualifier` query
parameter qualifies it too (LAMBDA_SPEC §2).
"""

from __future__ import annotations

from dataclasses import dataclass

from emulator import errors


class ValidationError(errors.ServiceError):
    status = 400
    error_type = "ValidationException"


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
        parts = function_name.split(":")
        if function_name.startswith("arn:"):
            # arn:aws:lambda:region:account:function:name[:qualifier]
            if len(parts) not in (7, 8) or parts[5] != "function":
                raise ValidationError(
                    f"1 validation error detected: Value '{function_name}' at 'functionName' "
                    "failed to satisfy constraint"
                )
            return parts[6], parts[7] if len(parts) == 8 else qualifier
        if len(parts) >= 3 and parts[1] == "function":  # account:function:name[:qualifier]
            return parts[2], parts[3] if len(parts) > 3 else qualifier
        return parts[0], parts[1] if len(parts) > 1 else qualifier
