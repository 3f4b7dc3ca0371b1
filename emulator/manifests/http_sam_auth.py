"""The values of a SAM template that the front door reads in more than one place: literals
(`!Ref` to a parameter's Default), `FunctionArn`s, CORS settings and Lambda authorizers of
`AWS::Serverless::HttpApi` / `AWS::Serverless::Api` (their `Auth.Authorizers.<Name>`), and
SAM's Globals merge. `http_sam` reads the rest (APIs, events, function URLs).

Sources: SAM docs (docs.aws.amazon.com/serverless-application-model/latest/developerguide/)
sam-property-httpapi-lambdaauthorizer(-identity), sam-property-api-lambdatokenauthorizer /
-lambdarequestauthorizer (+ their identities), sam-resource-httpapi (CorsConfiguration),
sam-resource-api (Cors); SAMT = aws/serverless-application-model@7000d0a `samtranslator/`:
model/apigatewayv2.py, model/apigateway.py, model/api/http_api_generator.py,
swagger/swagger.py, plugins/globals/globals.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import cast

from emulator.frontdoor.model import ApiKind, Authorizer, AuthorizerKind, Cors, PayloadVersion
from emulator.manifests import http
from emulator.manifests.http import Scope
from emulator.manifests.sam import resolve_parameter
from emulator.manifests.validate import intrinsic_tag, show

_HTTP_AUTHORIZER_KEYS = (
    "FunctionArn",
    "AuthorizerPayloadFormatVersion",
    "EnableSimpleResponses",
    "Identity",
)
_HTTP_AUTHORIZER_IGNORED = ("FunctionInvokeRole", "EnableFunctionDefaultPermissions")
_REST_AUTHORIZER_KEYS = ("FunctionArn", "FunctionPayloadType", "Identity")
_REST_AUTHORIZER_IGNORED = ("FunctionInvokeRole", "DisableFunctionDefaultPermissions")
_JWT_OR_COGNITO = ("JwtConfiguration", "IdentitySource", "UserPoolArn")
# Identity lists → API Gateway's identity sources (SAMT model/apigatewayv2.py
# `_get_identity_source`, model/apigateway.py `_get_identity_source`).
_IDENTITY_PREFIXES: dict[ApiKind, tuple[tuple[str, str], ...]] = {
    "http": (
        ("Headers", "$request.header."),
        ("QueryStrings", "$request.querystring."),
        ("StageVariables", "$stageVariables."),
        ("Context", "$context."),
    ),
    "rest": (
        ("Headers", "method.request.header."),
        ("QueryStrings", "method.request.querystring."),
        ("StageVariables", "stageVariables."),
        ("Context", "context."),
    ),
}
_AUTHORIZER_LABELS = {
    "kind": "FunctionPayloadType",
    "payload_version": "AuthorizerPayloadFormatVersion",
    "simple_responses": "EnableSimpleResponses",
    "identity_sources": "Identity",
    "ttl": "Identity.ReauthorizeEvery",
    "validation_regex": "Identity.ValidationExpression",
}
HTTP_CORS = {
    "allow_origins": "AllowOrigins",
    "allow_methods": "AllowMethods",
    "allow_headers": "AllowHeaders",
    "expose_headers": "ExposeHeaders",
    "allow_credentials": "AllowCredentials",
    "max_age": "MaxAge",
}
_REST_CORS_KEYS = ("AllowOrigin", "AllowMethods", "AllowHeaders", "MaxAge", "AllowCredentials")


def merge(global_value: object, local: object) -> object:
    """SAM's Globals merge (SAMT plugins/globals/globals.py `_do_merge`)."""
    if isinstance(global_value, dict) and isinstance(local, dict):
        merged = dict(global_value)
        for key, value in local.items():
            merged[key] = merge(global_value[key], value) if key in global_value else value
        return merged
    if isinstance(global_value, list) and isinstance(local, list):
        return global_value + local
    return local


@dataclass(frozen=True)
class SamValues:
    """What a template's values are resolved against."""

    parameters: Mapping[str, object]
    names: Mapping[str, str]  # function logical id → the function's name
    functions: tuple[str, ...]

    def resolve(self, value: object) -> object:
        """`!Ref Param` → the parameter's Default when it has one; anything else as it is."""
        return resolve_parameter(self.parameters, value)

    def literal(self, scope: Scope, value: object, key: str | None = None) -> object:
        """A value that must be literal: `!Ref Param` resolved, any other intrinsic refused."""
        value = resolve_parameter(self.parameters, value)
        tag = intrinsic_tag(value)
        if tag is not None:
            raise scope.fail(
                "intrinsic functions are not resolved for this field (only !Ref to a parameter "
                f"with a Default is); expected a literal value, got {tag}",
                key,
            )
        return value

    def http_cors(self, scope: Scope, value: object) -> Cors:
        value = self.literal(scope, value)
        if value is True:
            # SAMT http_api_generator._add_cors: `CorsConfiguration: true` allows origin '*'
            return Cors(allow_origins=("*",))
        if isinstance(value, bool):
            raise scope.fail("must be true or a mapping of CORS settings, got false")
        return http.cors(scope, value, HTTP_CORS)

    def rest_cors(self, scope: Scope, value: object) -> Cors:
        """`Cors: "'*'"` or a mapping whose values are quoted header values, as SAM writes them
        into the OPTIONS method's response (SAMT swagger/swagger.py `add_cors`)."""
        value = self.literal(scope, value)
        if isinstance(value, str):
            return Cors(allow_origins=(_quoted(scope, value),))
        table = scope.mapping(value, what="a quoted origin such as \"'*'\" or a mapping")
        scope.keys(table, _REST_CORS_KEYS)
        if "AllowOrigin" not in table:
            raise scope.fail("is required (e.g. \"'*'\"), got nothing", "AllowOrigin")
        max_age: int | None = None
        if "MaxAge" in table:
            raw = table["MaxAge"]
            text = (
                str(raw)
                if isinstance(raw, int) and not isinstance(raw, bool)
                else _quoted(scope, raw, "MaxAge")
            )
            if not text.isdigit() or int(text) > http.CORS_MAX_AGE_S:
                raise scope.fail(
                    f"must be a quoted number of seconds from 0 to {http.CORS_MAX_AGE_S}, "
                    f"got {show(raw)}",
                    "MaxAge",
                )
            max_age = int(text)
        return Cors(
            allow_origins=(_quoted(scope, table["AllowOrigin"], "AllowOrigin"),),
            # empty: SAM's default, the path's own methods plus OPTIONS
            allow_methods=_quoted_list(scope, table, "AllowMethods"),
            allow_headers=_quoted_list(scope, table, "AllowHeaders"),
            allow_credentials=scope.boolean(
                table.get("AllowCredentials", False), "AllowCredentials"
            ),
            max_age_s=max_age,
        )

    def authorizer(self, scope: Scope, name: str, value: object, kind: ApiKind) -> Authorizer:
        table = scope.mapping(self.literal(scope, value))
        for key in _JWT_OR_COGNITO:
            if key in table:
                raise scope.fail(
                    "only Lambda authorizers are emulated (no JWT or Cognito authorizers); "
                    f"expected FunctionArn, got {key}",
                    key,
                )
        if kind == "http":
            scope.keys(
                table, (*_HTTP_AUTHORIZER_KEYS, "FunctionPayloadType"), _HTTP_AUTHORIZER_IGNORED
            )
        else:
            scope.keys(table, _REST_AUTHORIZER_KEYS, _REST_AUTHORIZER_IGNORED)
        if "FunctionArn" not in table:
            raise scope.fail("is required: !GetAtt <Function>.Arn, got nothing", "FunctionArn")
        function = self.function_arn(scope, table["FunctionArn"])

        payload_type = self.literal(
            scope,
            table.get("FunctionPayloadType", "TOKEN" if kind == "rest" else "REQUEST"),
            "FunctionPayloadType",
        )
        auth_kind = cast(
            AuthorizerKind,
            scope.choice(payload_type, ("TOKEN", "REQUEST"), "FunctionPayloadType").lower(),
        )
        version: PayloadVersion = "1.0"
        if kind == "http":
            if "AuthorizerPayloadFormatVersion" not in table:
                # SAMT model/apigatewayv2.py: "Lambda Authorizer must define
                # 'AuthorizerPayloadFormatVersion'"
                raise scope.fail(
                    "is required ('1.0' or '2.0'), got nothing", "AuthorizerPayloadFormatVersion"
                )
            version = scope.payload_version(
                self.literal(
                    scope, table["AuthorizerPayloadFormatVersion"], "AuthorizerPayloadFormatVersion"
                ),
                "AuthorizerPayloadFormatVersion",
            )
        simple = scope.boolean(
            self.literal(scope, table.get("EnableSimpleResponses", False), "EnableSimpleResponses"),
            "EnableSimpleResponses",
        )

        identity_scope = scope.at("Identity")
        identity = identity_scope.mapping(
            self.literal(scope, table.get("Identity") or {}, "Identity")
        )
        sources: list[str] = []
        regex: str | None = None
        if auth_kind == "token":
            identity_scope.keys(identity, ("Header", "ValidationExpression", "ReauthorizeEvery"))
            # SAM docs sam-property-api-lambdatokenauthorizationidentity: Header "Default:
            # Authorization"
            header = identity_scope.string(
                self.literal(identity_scope, identity.get("Header", "Authorization"), "Header"),
                "Header",
            )
            sources.append(f"method.request.header.{header}")
            if "ValidationExpression" in identity:
                regex = identity_scope.string(
                    self.literal(
                        identity_scope, identity["ValidationExpression"], "ValidationExpression"
                    ),
                    "ValidationExpression",
                )
        else:
            prefixes = _IDENTITY_PREFIXES[kind]
            identity_scope.keys(identity, (*(key for key, _ in prefixes), "ReauthorizeEvery"))
            for key, prefix in prefixes:
                if key in identity:
                    items = identity_scope.strings(
                        self.literal(identity_scope, identity[key], key), key
                    )
                    sources += [prefix + item for item in items]
        if "ReauthorizeEvery" in identity:
            ttl = identity_scope.integer(
                self.literal(identity_scope, identity["ReauthorizeEvery"], "ReauthorizeEvery"),
                0,
                http.TTL_MAX_S,
                "ReauthorizeEvery",
            )
        else:
            ttl = http.REST_DEFAULT_TTL_S if kind == "rest" else http.HTTP_DEFAULT_TTL_S
        authorizer = Authorizer(
            name=name,
            function=function,
            kind=auth_kind,
            payload_version=version,
            simple_responses=simple,
            identity_sources=tuple(sources),
            ttl_s=ttl,
            validation_regex=regex,
        )
        return http.check_authorizer(scope, authorizer, kind, _AUTHORIZER_LABELS)

    def function_arn(self, scope: Scope, value: object) -> str:
        """`!GetAtt Fn.Arn` of a function of this template → that function's name. ⚠ A
        literal `arn:aws:lambda:…:function:NAME` of a function served here is taken too."""
        value = resolve_parameter(self.parameters, value)
        if isinstance(value, dict) and len(value) == 1 and "Fn::GetAtt" in value:
            argument = value["Fn::GetAtt"]
            if isinstance(argument, str):
                argument = argument.split(".", 1)
            if (
                isinstance(argument, list)
                and len(argument) == 2
                and argument[1] == "Arn"
                and argument[0] in self.names
            ):
                return self.names[str(argument[0])]
        if isinstance(value, str) and value.startswith("arn:") and ":function:" in value:
            name = value.split(":function:", 1)[1].split(":", 1)[0]
            if name in self.functions:
                return name
        raise scope.fail(
            "must be !GetAtt <Function>.Arn of an AWS::Serverless::Function or "
            f"AWS::Lambda::Function of this template, got {show(value)}",
            "FunctionArn",
        )


def _quoted(scope: Scope, value: object, key: str | None = None) -> str:
    """SAM REST CORS values are header values in single quotes: "'*'", "'GET,POST'"."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1]
    raise scope.fail(
        "must be a header value in single quotes, as SAM writes it (e.g. \"'*'\"), "
        f"got {show(value)}",
        key,
    )


def _quoted_list(scope: Scope, table: Mapping[str, object], key: str) -> tuple[str, ...]:
    if key not in table:
        return ()
    return tuple(
        item.strip() for item in _quoted(scope, table[key], key).split(",") if item.strip()
    )
