"""SAM's front door: function `Events` of `Type: HttpApi` / `Api`, `AWS::Serverless::HttpApi`
and `AWS::Serverless::Api` resources (with `Globals.HttpApi` / `Globals.Api`), and
`FunctionUrlConfig` (with `Globals.Function`). Authorizers, CORS and literal values are read by
`http_sam_auth`.

Sources (SAM docs = docs.aws.amazon.com/serverless-application-model/latest/developerguide/;
SAMT = aws/serverless-application-model@7000d0a `samtranslator/`):
- events: SAM docs sam-property-function-httpapi / -api; SAMT model/eventsources/push.py,
  plugins/api/implicit_http_api_plugin.py (no Path and no Method: the `$default` route, ANY),
  implicit_rest_api_plugin.py (`ServerlessRestApi`, stage `Prod`);
- APIs: SAM docs sam-resource-httpapi / sam-resource-api; SAMT model/api/http_api_generator.py;
- function URLs: SAM docs sam-property-function-functionurlconfig; SAMT sam_resources.py;
- Globals: SAM docs sam-specification-template-anatomy-globals; SAMT plugins/globals/globals.py
  (maps merge key by key, lists are global-then-local, anything else: the resource's wins).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import cast

from emulator.frontdoor.model import (
    ANY,
    DEFAULT_ROUTE,
    ApiKind,
    Authorizer,
    Cors,
    FunctionUrl,
    HttpApi,
    HttpRoute,
    InvokeMode,
    PayloadVersion,
    UrlAuthType,
)
from emulator.manifests import http
from emulator.manifests.cfn_yaml import parse_template
from emulator.manifests.http import ApiDraft, Drafts, RouteDraft, Scope
from emulator.manifests.http_sam_auth import HTTP_CORS, SamValues, merge
from emulator.manifests.intrinsics import StackSettings
from emulator.manifests.sam import read_sam
from emulator.manifests.validate import intrinsic_tag, show

_SERVERLESS_FUNCTION = "AWS::Serverless::Function"
_TYPES: dict[ApiKind, str] = {"http": "AWS::Serverless::HttpApi", "rest": "AWS::Serverless::Api"}
_EVENT_TYPES: dict[str, ApiKind] = {"HttpApi": "http", "Api": "rest"}
# SAM's implicit APIs, created for events without ApiId / RestApiId (SAMT implicit_*_plugin.py)
IMPLICIT: dict[ApiKind, str] = {"http": "ServerlessHttpApi", "rest": "ServerlessRestApi"}
_IMPLICIT_STAGE: dict[ApiKind, str] = {"http": "$default", "rest": "Prod"}
_GLOBALS: dict[ApiKind, str] = {"http": "HttpApi", "rest": "Api"}
# What SAM accepts under Globals.HttpApi / Globals.Api (SAMT plugins/globals/globals.py);
# of these we read Auth, StageVariables/Variables, CorsConfiguration/Cors and BinaryMediaTypes.
_GLOBAL_KEYS: dict[ApiKind, tuple[str, ...]] = {
    "http": (
        "Auth",
        "AccessLogSettings",
        "StageVariables",
        "Tags",
        "CorsConfiguration",
        "DefaultRouteSettings",
        "Domain",
        "RouteSettings",
        "FailOnWarnings",
        "PropagateTags",
    ),
    "rest": (
        "Auth",
        "Name",
        "DefinitionUri",
        "CacheClusterEnabled",
        "CacheClusterSize",
        "MergeDefinitions",
        "Variables",
        "EndpointConfiguration",
        "MethodSettings",
        "BinaryMediaTypes",
        "MinimumCompressionSize",
        "Cors",
        "GatewayResponses",
        "AccessLogSetting",
        "CanarySetting",
        "TracingEnabled",
        "OpenApiVersion",
        "Domain",
        "AlwaysDeploy",
        "PropagateTags",
    ),
}
_STAGE_VARIABLES: dict[ApiKind, str] = {"http": "StageVariables", "rest": "Variables"}
_CORS: dict[ApiKind, str] = {"http": "CorsConfiguration", "rest": "Cors"}
# Event properties: read, then accepted but not emulated (SAMT eventsources/push.py).
_EVENT_KEYS: dict[ApiKind, tuple[str, ...]] = {
    "http": ("Path", "Method", "ApiId", "Auth", "PayloadFormatVersion"),
    "rest": ("Path", "Method", "RestApiId", "Auth"),
}
_EVENT_IGNORED: dict[ApiKind, tuple[str, ...]] = {
    "http": ("Stage", "TimeoutInMillis", "RouteSettings"),
    "rest": (
        "Stage",
        "RequestModel",
        "RequestParameters",
        "TimeoutInMillis",
        "ResponseTransferMode",
    ),
}
_EVENT_AUTH_IGNORED: dict[ApiKind, tuple[str, ...]] = {
    "http": ("AuthorizationScopes",),
    "rest": (
        "ApiKeyRequired",
        "AuthorizationScopes",
        "InvokeRole",
        "OverrideApiAuth",
        "ResourcePolicy",
    ),
}
_API_AUTH_IGNORED: dict[ApiKind, tuple[str, ...]] = {
    "http": ("EnableIamAuthorizer",),
    "rest": (
        "AddDefaultAuthorizerToCorsPreflight",
        "AddApiKeyRequiredToCorsPreflight",
        "ApiKeyRequired",
        "InvokeRole",
        "ResourcePolicy",
        "UsagePlan",
    ),
}
_URL_KEYS = ("AuthType", "Cors", "InvokeMode")


def read_sam_http(
    path: Path, text: str, functions: tuple[str, ...], settings: StackSettings | None = None
) -> Drafts:
    doc = parse_template(path, text)
    # logical id → function name, exactly as the function reader names them (with the same
    # --parameter-overrides); a function whose Condition is false is not there
    raws = read_sam(path, text, settings)
    names = {raw.origin.removeprefix("Resources."): raw.name for raw in raws}
    return _SamHttp(path, doc, names, functions).read()


class _SamHttp:
    def __init__(
        self,
        path: Path,
        doc: Mapping[object, object],
        names: Mapping[str, str],
        functions: tuple[str, ...],
    ) -> None:
        self.path = path
        parameters = doc.get("Parameters") or {}
        self.sam = SamValues(
            {str(k): v for k, v in parameters.items()} if isinstance(parameters, dict) else {},
            names,
            functions,
        )
        top = Scope(path)
        self.globals = top.mapping(doc.get("Globals") or {}, "Globals")
        self.resources = top.mapping(doc.get("Resources"), "Resources")
        self.names = names
        self.drafts = Drafts()
        self.apis: dict[str, ApiDraft] = {}

    def api_globals(self, kind: ApiKind) -> dict[str, object]:
        section = _GLOBALS[kind]
        scope = Scope(self.path, f"Globals.{section}")
        table = scope.mapping(self.globals.get(section) or {})
        scope.keys(table, _GLOBAL_KEYS[kind])
        return table

    def read(self) -> Drafts:
        for logical_id, resource in self.resources.items():
            if not isinstance(resource, dict):
                continue
            for kind, type_name in _TYPES.items():
                if resource.get("Type") == type_name:
                    scope = Scope(self.path, f"Resources.{logical_id}.Properties")
                    properties = scope.mapping(resource.get("Properties") or {})
                    self.add_api(logical_id, kind, properties, scope, explicit=True)
        for logical_id, resource in self.resources.items():
            if isinstance(resource, dict) and resource.get("Type") == _SERVERLESS_FUNCTION:
                self.read_function(logical_id, resource)
        return self.drafts

    # ── APIs ──────────────────────────────────────────────────────────────────────────────

    def add_api(
        self,
        name: str,
        kind: ApiKind,
        properties: Mapping[str, object],
        scope: Scope,
        *,
        explicit: bool,
    ) -> ApiDraft:
        glob = self.api_globals(kind)
        global_scope = Scope(self.path, f"Globals.{_GLOBALS[kind]}")

        def pick(key: str) -> tuple[object, Scope] | None:
            if key in properties:
                value = properties[key]
                if key in glob:
                    value = merge(glob[key], value)
                return value, scope
            if key in glob:
                return glob[key], global_scope
            return None

        if explicit and "StageName" in properties:
            stage_name = http.stage(
                scope,
                self.sam.literal(scope, properties["StageName"], "StageName"),
                kind,
                "StageName",
            )
        elif explicit and kind == "rest":
            # SAM docs sam-resource-api: StageName "Required: Yes"
            raise scope.fail("is required for an AWS::Serverless::Api, got nothing", "StageName")
        else:
            stage_name = _IMPLICIT_STAGE[kind]

        variables: Mapping[str, str] = MappingProxyType({})
        picked = pick(_STAGE_VARIABLES[kind])
        if picked is not None:
            value, where = picked
            key = _STAGE_VARIABLES[kind]
            table = where.mapping(
                self.sam.literal(where, value, key), key, "a mapping of names to values"
            )
            # a value that stays an intrinsic (`!Ref Table`, `!GetAtt …`) is left unset, as an
            # environment variable's is (docs/configuration.md, "Intrinsic functions")
            resolved = {name: self.sam.resolve(item) for name, item in table.items()}
            variables = http.stage_variables(
                where,
                {name: item for name, item in resolved.items() if intrinsic_tag(item) is None},
                key,
            )

        cors: Cors | None = None
        picked = pick(_CORS[kind])
        if picked is not None:
            value, where = picked
            cors = (
                self.sam.http_cors(where.at("CorsConfiguration"), value)
                if kind == "http"
                else self.sam.rest_cors(where.at("Cors"), value)
            )

        authorizers: dict[str, Authorizer] = {}
        default_authorizer: str | None = None
        auth_scope = scope.at("Auth")
        picked = pick("Auth")
        if picked is not None:
            value, where = picked
            auth_scope = where.at("Auth")
            auth = auth_scope.mapping(self.sam.literal(auth_scope, value))
            auth_scope.keys(auth, ("Authorizers", "DefaultAuthorizer"), _API_AUTH_IGNORED[kind])
            table = auth_scope.mapping(auth.get("Authorizers") or {}, "Authorizers")
            for auth_name, item in table.items():
                authorizers[auth_name] = self.sam.authorizer(
                    auth_scope.at("Authorizers").at(auth_name), auth_name, item, kind
                )
            if "DefaultAuthorizer" in auth:
                default_authorizer = auth_scope.string(
                    self.sam.literal(auth_scope, auth["DefaultAuthorizer"], "DefaultAuthorizer"),
                    "DefaultAuthorizer",
                )
                if default_authorizer == "AWS_IAM":
                    raise auth_scope.fail(
                        "IAM authorization of API routes is not emulated (function URLs have it); "
                        "expected a Lambda authorizer's name, got 'AWS_IAM'",
                        "DefaultAuthorizer",
                    )

        binary: tuple[str, ...] = ()
        picked = pick("BinaryMediaTypes") if kind == "rest" else None
        if picked is not None:
            value, where = picked
            binary = http.binary_media_types(
                where, self.sam.literal(where, value, "BinaryMediaTypes"), kind, "BinaryMediaTypes"
            )

        api = HttpApi(
            name=name,
            kind=kind,
            stage=stage_name,
            stage_variables=variables,
            cors=cors,
            authorizers=MappingProxyType(authorizers),
            default_authorizer=default_authorizer,
            source=self.path,
            binary_media_types=binary,
        )
        draft = ApiDraft(api, auth_scope, "DefaultAuthorizer")
        self.apis[name] = draft
        self.drafts.apis.append(draft)
        return draft

    # ── functions: events and URLs ────────────────────────────────────────────────────────

    def read_function(self, logical_id: str, resource: Mapping[str, object]) -> None:
        if logical_id not in self.names:
            return  # its Condition is false: CloudFormation creates neither it nor its events
        name = self.names[logical_id]
        scope = Scope(self.path, "", name)
        properties = scope.mapping(resource.get("Properties") or {}, "Properties")
        events = properties.get("Events")
        if events is not None:
            table = scope.mapping(events, "Events")
            for event_id, event in table.items():
                event_scope = scope.at(f"Events.{event_id}")
                body = event_scope.mapping(event)
                kind = _EVENT_TYPES.get(str(body.get("Type")))
                if kind is not None:
                    self.read_event(event_scope, logical_id, str(event_id), name, kind, body)
        function_globals = self.globals.get("Function") or {}
        url_value: object = None
        url_scope = scope.at("FunctionUrlConfig")
        if "FunctionUrlConfig" in properties:
            url_value = properties["FunctionUrlConfig"]
            if isinstance(function_globals, dict) and "FunctionUrlConfig" in function_globals:
                url_value = merge(function_globals["FunctionUrlConfig"], url_value)
        elif isinstance(function_globals, dict) and "FunctionUrlConfig" in function_globals:
            url_value = function_globals["FunctionUrlConfig"]
            url_scope = Scope(self.path, "Globals.Function.FunctionUrlConfig", name)
        if url_value is not None:
            self.drafts.urls.append(self.url(url_scope, name, url_value))

    def read_event(
        self,
        scope: Scope,
        logical_id: str,
        event_id: str,
        function: str,
        kind: ApiKind,
        body: Mapping[str, object],
    ) -> None:
        properties = scope.mapping(body.get("Properties") or {}, "Properties")
        scope = scope.at("Properties")
        if kind == "rest" and "PayloadFormatVersion" in properties:
            raise scope.fail(
                "REST APIs (Type: Api) send payload format 1.0 only (Lambda proxy integration); "
                f"use Type: HttpApi for 2.0, got {show(properties['PayloadFormatVersion'])}",
                "PayloadFormatVersion",
            )
        scope.keys(properties, _EVENT_KEYS[kind], _EVENT_IGNORED[kind])
        id_key = "ApiId" if kind == "http" else "RestApiId"
        api_draft = self.event_api(scope, kind, properties.get(id_key), id_key)

        has_path, has_method = "Path" in properties, "Method" in properties
        if kind == "http" and not has_path and not has_method:
            # SAMT implicit_http_api_plugin.py: "If no path and method specified, add the
            # $default path and ANY method"
            route_path, method = DEFAULT_ROUTE, ANY
        else:
            for key, present in (("Path", has_path), ("Method", has_method)):
                if not present:
                    also = (
                        " (an HttpApi event with neither is the $default route)"
                        if kind == "http"
                        else ""
                    )
                    raise scope.fail(f"is required{also}, got nothing", key)
            route_path = http.route_path(
                scope, self.sam.literal(scope, properties["Path"], "Path"), kind, "Path"
            )
            method = http.method(
                scope, self.sam.literal(scope, properties["Method"], "Method"), "Method"
            )
            if route_path == DEFAULT_ROUTE and method != ANY:
                raise scope.fail(
                    f"must be ANY (or left out) on the $default route, got {show(method)}", "Method"
                )

        version: PayloadVersion = "1.0"
        if kind == "http":
            # SAM docs sam-property-function-httpapi: PayloadFormatVersion "Default: 2.0"
            version = scope.payload_version(
                self.sam.literal(
                    scope, properties.get("PayloadFormatVersion", "2.0"), "PayloadFormatVersion"
                ),
                "PayloadFormatVersion",
            )
        authorizer: str | None = None
        if "Auth" in properties:
            auth_scope = scope.at("Auth")
            auth = auth_scope.mapping(self.sam.literal(scope, properties["Auth"], "Auth"))
            auth_scope.keys(auth, ("Authorizer",), _EVENT_AUTH_IGNORED[kind])
            if "Authorizer" in auth:
                authorizer = auth_scope.string(
                    self.sam.literal(auth_scope, auth["Authorizer"], "Authorizer"), "Authorizer"
                )
                if authorizer == "AWS_IAM":
                    raise auth_scope.fail(
                        "IAM authorization of API routes is not emulated (function URLs have "
                        "it); expected a Lambda authorizer's name or NONE, got 'AWS_IAM'",
                        "Authorizer",
                    )
        route = HttpRoute(
            api=api_draft.api.name,
            method=method,
            path=route_path,
            function=function,
            payload_version=version,
            authorizer=authorizer,
            origin=f"Resources.{logical_id}.Properties.Events.{event_id}",
        )
        self.drafts.routes.append(RouteDraft(route, scope, "Auth.Authorizer", scope, id_key))

    def event_api(self, scope: Scope, kind: ApiKind, value: object, key: str) -> ApiDraft:
        if value is None:
            implicit = IMPLICIT[kind]
            draft = self.apis.get(implicit)
            if draft is None:
                draft = self.add_api(
                    implicit,
                    kind,
                    {},
                    Scope(self.path, f"Globals.{_GLOBALS[kind]}"),
                    explicit=False,
                )
            return draft
        ref = value.get("Ref") if isinstance(value, dict) and len(value) == 1 else value
        draft = self.apis.get(ref) if isinstance(ref, str) else None
        if draft is None or draft.api.kind != kind:
            raise scope.fail(
                f"must be !Ref to an {_TYPES[kind]} of this template, got {show(value)}", key
            )
        return draft

    def url(self, scope: Scope, function: str, value: object) -> FunctionUrl:
        table = scope.mapping(self.sam.literal(scope, value))
        scope.keys(table, _URL_KEYS)
        if "AuthType" not in table:
            # SAMT sam_resources.py: "AuthType is required to configure function property
            # `FunctionUrlConfig`"
            raise scope.fail("is required ('NONE' or 'AWS_IAM'), got nothing", "AuthType")
        cors = None
        if "Cors" in table:
            cors = http.cors(
                scope.at("Cors"),
                self.sam.literal(scope, table["Cors"], "Cors"),
                HTTP_CORS,
                function_url=True,
            )
        return FunctionUrl(
            function=function,
            auth_type=cast(
                UrlAuthType,
                scope.choice(
                    self.sam.literal(scope, table["AuthType"], "AuthType"),
                    ("NONE", "AWS_IAM"),
                    "AuthType",
                ),
            ),
            cors=cors,
            invoke_mode=cast(
                InvokeMode,
                scope.choice(
                    self.sam.literal(scope, table.get("InvokeMode", "BUFFERED"), "InvokeMode"),
                    ("BUFFERED", "RESPONSE_STREAM"),
                    "InvokeMode",
                ),
            ),
        )
