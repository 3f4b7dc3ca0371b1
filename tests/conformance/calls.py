"""How the cases call the emulator: boto3, as a user of real Lambda does."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

import pytest


@dataclass
class Invoked:
    response: dict[str, Any]
    payload: Any
    log: str


def invoke(aws: Any, name: str, event: Any = None, **kwargs: Any) -> Invoked:
    """A RequestResponse Invoke with LogType Tail: (response, parsed payload, decoded tail)."""
    if event is not None:
        kwargs["Payload"] = json.dumps(event)
    resp = aws.invoke(FunctionName=name, LogType="Tail", **kwargs)
    body = resp["Payload"].read()
    return Invoked(
        resp, json.loads(body) if body else None, base64.b64decode(resp["LogResult"]).decode()
    )


def client_error(aws: Any, **kwargs: Any) -> tuple[int, str, str]:
    """(HTTP status, error code, message) of an Invoke that AWS rejects."""
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as exc:
        aws.invoke(**kwargs)
    err = exc.value.response
    return err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Code"], err["Error"]["Message"]
