"""SigV4 verification for `AWS_IAM` function URLs (service `lambda`).

The request is signed as the client sent it to the emulator (path `/lambda-url/<name>/...`,
its own Host), so it is checked as received. The algorithm is AWS's "Create a signed AWS API
request" (IAM user guide, `reference_sigv-create-signed-request.html`): canonical request →
string to sign → HMAC chain of the secret over date, region, service, `aws4_request`. Like
botocore (`botocore/auth.py` SigV4Auth) for every service but S3, the canonical URI is the
path URI-encoded once more (so `%2F` is signed as `%252F`). Clients differ at the edges (a
path signed as sent, a query's pairs signed as sent rather than re-encoded), so either form of
each is accepted: what matters is that the secret signed this request.

Both forms are accepted: the `Authorization: AWS4-HMAC-SHA256 Credential=…` header, and a
presigned URL (`X-Amz-Algorithm`, `X-Amz-Credential`, … in the query).

The credentials are the emulator's local ones (`EmulatorConfig.credentials`: access key id →
secret). A session token (`X-Amz-Security-Token`) is not checked ⚠. The request time must be
within 5 minutes of the emulator's clock (SigV4 docs: "the request must reach AWS within five
minutes of the time stamp") ⚠ presigned URLs: until `X-Amz-Expires`.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import posixpath
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, unquote

ALGORITHM = "AWS4-HMAC-SHA256"
SERVICE = "lambda"
MAX_SKEW_S = 300
UNSIGNED = "UNSIGNED-PAYLOAD"
# ⚠ what AWS_IAM URLs accept when no credentials are configured (LocalStack's convention)
DEFAULT_CREDENTIALS: Mapping[str, str] = {"test": "test"}


@dataclass(frozen=True, slots=True)
class Verified:
    access_key: str


class SignatureError(Exception):
    """Why a request's signature was refused (for the emulator's log; the caller sees AWS's
    403 only)."""


def _normalize_path(path: str) -> str:
    # botocore's normalize_url_path: remove dot segments, keep a trailing slash
    if not path:
        return "/"
    normalized = posixpath.normpath(path)
    if normalized.startswith("//"):
        normalized = normalized[1:]
    if path.endswith("/") and normalized != "/":
        normalized += "/"
    return normalized


def canonical_uri(raw_path: str) -> str:
    return quote(_normalize_path(raw_path), safe="/~")


def canonical_queries(raw_query: str, *, drop: str | None = None) -> list[str]:
    """The canonical query string: each pair decoded and URI-encoded again (AWS's rule), and
    the pairs as sent (botocore signs a URL's query that way); both sorted."""
    sent, encoded = [], []
    for part in raw_query.split("&") if raw_query else []:
        if not part:
            continue
        key, _, value = part.partition("=")
        if unquote(key) == drop:
            continue
        sent.append((key, value))
        encoded.append((quote(unquote(key), safe="-_.~"), quote(unquote(value), safe="-_.~")))
    forms = ["&".join(f"{k}={v}" for k, v in sorted(pairs)) for pairs in (encoded, sent)]
    return list(dict.fromkeys(forms))


def canonical_headers(headers: Iterable[tuple[str, str]], signed: list[str]) -> str:
    values: dict[str, list[str]] = {}
    for name, value in headers:
        low = name.lower()
        if low in signed:
            values.setdefault(low, []).append(" ".join(value.split()))
    return "".join(f"{name}:{','.join(values.get(name, []))}\n" for name in signed)


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = hmac.new(f"AWS4{secret}".encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def _query_params(raw_query: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in raw_query.split("&") if raw_query else []:
        key, _, value = part.partition("=")
        out.setdefault(unquote(key), unquote(value))
    return out


def _parse_authorization(value: str) -> dict[str, str]:
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise SignatureError(f"unsupported algorithm {algorithm!r}")
    fields: dict[str, str] = {}
    for part in rest.split(","):
        key, _, val = part.strip().partition("=")
        fields[key] = val
    if not {"Credential", "SignedHeaders", "Signature"} <= fields.keys():
        raise SignatureError("Authorization header misses Credential, SignedHeaders or Signature")
    return fields


def verify(
    *,
    method: str,
    raw_path: str,
    raw_query: str,
    headers: list[tuple[str, str]],
    body: bytes,
    credentials: Mapping[str, str],
    region: str,
    now: float | None = None,
) -> Verified:
    """Check a request's SigV4 signature; raises SignatureError."""
    lower = {name.lower(): value for name, value in headers}
    params = _query_params(raw_query)
    presigned = "X-Amz-Signature" in params
    if presigned:
        if params.get("X-Amz-Algorithm") != ALGORITHM:
            raise SignatureError("unsupported X-Amz-Algorithm")
        credential = params.get("X-Amz-Credential", "")
        signed_headers = params.get("X-Amz-SignedHeaders", "")
        signature = params["X-Amz-Signature"]
        stamp = params.get("X-Amz-Date", "")
        # S3 presigns UNSIGNED-PAYLOAD; botocore signs the body's hash for other services
        payload_hashes = [hashlib.sha256(body).hexdigest(), UNSIGNED]
        queries = canonical_queries(raw_query, drop="X-Amz-Signature")
    else:
        authorization = lower.get("authorization")
        if not authorization:
            raise SignatureError("no Authorization header and no presigned query")
        fields = _parse_authorization(authorization)
        credential = fields["Credential"]
        signed_headers = fields["SignedHeaders"]
        signature = fields["Signature"]
        stamp = lower.get("x-amz-date", "")
        payload_hash = lower.get("x-amz-content-sha256") or hashlib.sha256(body).hexdigest()
        if payload_hash != UNSIGNED and payload_hash != hashlib.sha256(body).hexdigest():
            raise SignatureError("x-amz-content-sha256 does not match the body")
        payload_hashes = [payload_hash]
        queries = canonical_queries(raw_query)
    try:
        access_key, date, cred_region, service, terminal = credential.split("/")
    except ValueError:
        raise SignatureError(f"malformed credential scope {credential!r}") from None
    if terminal != "aws4_request" or service != SERVICE:
        raise SignatureError(f"credential scope names service {service!r}, not {SERVICE!r}")
    if cred_region != region:
        raise SignatureError(f"credential scope names region {cred_region!r}, not {region!r}")
    secret = credentials.get(access_key)
    if secret is None:
        raise SignatureError(f"unknown access key {access_key!r}")
    try:
        signed_at = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC).timestamp()
    except ValueError:
        raise SignatureError(f"missing or malformed X-Amz-Date {stamp!r}") from None
    if not stamp.startswith(date):
        raise SignatureError("X-Amz-Date and the credential scope disagree on the date")
    clock = time.time() if now is None else now
    if presigned:
        expires = int(params.get("X-Amz-Expires", "0") or 0)
        if not signed_at - MAX_SKEW_S <= clock <= signed_at + expires:
            raise SignatureError("presigned URL expired")
    elif abs(clock - signed_at) > MAX_SKEW_S:
        raise SignatureError("signature expired: X-Amz-Date is more than 5 minutes off")
    signed = [h for h in signed_headers.lower().split(";") if h]
    if "host" not in signed:
        raise SignatureError("the Host header is not signed")
    scope = f"{date}/{cred_region}/{service}/aws4_request"
    key = signing_key(secret, date, cred_region, service)
    header_block = canonical_headers(headers, signed)
    uris = dict.fromkeys((canonical_uri(raw_path), _normalize_path(raw_path)))
    for uri in uris:
        for query in queries:
            for payload_hash in payload_hashes:
                canonical = "\n".join(
                    (method, uri, query, header_block, ";".join(signed), payload_hash)
                )
                digest = hashlib.sha256(canonical.encode()).hexdigest()
                to_sign = "\n".join((ALGORITHM, stamp, scope, digest))
                expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
                if hmac.compare_digest(expected, signature):
                    return Verified(access_key)
    raise SignatureError("signature does not match")


def local_credentials(environ: Mapping[str, str], home: Path) -> dict[str, str]:
    """The credentials AWS_IAM function URLs accept, as the CLI finds them: the environment's
    `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`, and the default profile (or `AWS_PROFILE`'s)
    of the shared credentials file (`AWS_SHARED_CREDENTIALS_FILE`, else ~/.aws/credentials);
    ⚠ `test`/`test` when there are none (LocalStack's convention)."""
    import configparser

    found: dict[str, str] = {}
    key, secret = environ.get("AWS_ACCESS_KEY_ID"), environ.get("AWS_SECRET_ACCESS_KEY")
    if key and secret:
        found[key] = secret
    path = Path(environ.get("AWS_SHARED_CREDENTIALS_FILE") or home / ".aws" / "credentials")
    parser = configparser.RawConfigParser()
    with contextlib.suppress(OSError, configparser.Error):
        parser.read(path, encoding="utf-8")
    profile = environ.get("AWS_PROFILE") or "default"
    if parser.has_section(profile):
        key = parser.get(profile, "aws_access_key_id", fallback=None)
        secret = parser.get(profile, "aws_secret_access_key", fallback=None)
        if key and secret:
            found.setdefault(key.strip(), secret.strip())
    return found or dict(DEFAULT_CREDENTIALS)
