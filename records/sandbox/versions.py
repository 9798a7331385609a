"""Lambda's version, alias and per-qualifier event-invoke-config calls, served by the sandbox.

  POST   /2015-03-31/functions/{name}/versions            PublishVersion (201)
  GET    /2015-03-31/functions/{name}/versions            ListVersionsByFunction ($LATEST first)
  POST   /2015-03-31/functions/{name}/aliases             CreateAlias (201)
  GET    /2015-03-31/functions/{name}/aliases             ListAliases (?FunctionVersion=)
  GET    /2015-03-31/functions/{name}/aliases/{alias}     GetAlias
  PUT    /2015-03-31/functions/{name}/aliases/{alias}     UpdateAlias
  DELETE /2015-03-31/functions/{name}/aliases/{alias}     DeleteAlias (204, also when there is none)
  GET    /2015-03-31/functions/?FunctionVersion=ALL       ListFunctions with every published version
  PUT/POST/GET/DELETE /2019-09-25/functions/{name}/event-invoke-config?Qualifier=  of a version or alias
  GET    /2019-09-25/functions/{name}/event-invoke-config/list   every qualifier's config

Invoke and GetFunction(Configuration) with a qualifier go through `LambdaApi._function`, which
returns the function's view (qualifiers.py). An alias routes to one version: a RoutingConfig with
AdditionalVersionWeights is refused. Error codes and messages are AWS's, as recorded from AWS in
localstack's tests/aws/services/lambda_/test_lambda_api.snapshot.json (TestLambdaAlias,
TestLambdaVersions, TestLambdaEventInvokeConfig), and the botocore model's patterns.

`LambdaApi._lambda` asks `answer(...)` first; None means "not one of these".
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any, Protocol

from aiohttp import web

from records.sandbox import lambda_reads, qualifiers
from records.sandbox.api_errors import LambdaApiError, validation_error, violation
from records.sandbox.runtime import Function, Runtime

NO_WEIGHTS = (
    "The lambdest-tui sandbox does not route by weight: an alias points at one version, so "
    "RoutingConfig.AdditionalVersionWeights must be empty."
)


class LambdaApi(Protocol):
    """What this module uses of lambda_api.LambdaApi."""

    runtime: Runtime

    def _configuration(self, function: Function) -> dict[str, Any]: ...

    async def _put_config(self, name: str, request: web.Request, replace: bool) -> web.Response: ...


_error = LambdaApiError


def _validation(value: Any, member: str, constraint: str) -> LambdaApiError:
    return validation_error([violation(value, member, constraint)])


async def _body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _error(400, "InvalidRequestContentException", f"Could not parse request body into json: {exc}") from exc
    if not isinstance(body, dict):
        raise _error(400, "InvalidRequestContentException", "the request body must be a JSON object")
    return body


def _page(items: Sequence[dict[str, Any]], query: Any, key: str) -> web.Response:
    try:
        return web.json_response(lambda_reads.page(items, query, key))
    except lambda_reads.PageError as exc:
        raise _error(400, "InvalidParameterValueException", str(exc)) from exc


def _alias_api(function: Function, alias: qualifiers.Alias) -> dict[str, Any]:
    return {
        "AliasArn": f"{function.arn}:{alias.name}",
        "Name": alias.name,
        "FunctionVersion": alias.version,
        "Description": alias.description,
        "RevisionId": alias.revision_id,
    }


async def answer(api: LambdaApi, parts: Sequence[str], method: str, request: web.Request) -> web.Response | None:
    """The response to a version, alias or qualified event-invoke-config call, else None."""
    if len(parts) < 2 or parts[1] != "functions":
        return None
    if parts[0] == "2015-03-31":
        if len(parts) == 2 and method == "GET" and request.query.get("FunctionVersion") == "ALL":
            return _page(_all_versions(api), request.query, "Functions")
        if len(parts) == 4 and parts[3] == "versions":
            return await _versions(api, parts[2], method, request)
        if len(parts) in (4, 5) and parts[3] == "aliases":
            return await _aliases(api, parts[2], parts[4] if len(parts) == 5 else None, method, request)
    if parts[0] == "2019-09-25" and len(parts) in (4, 5) and parts[3] == "event-invoke-config":
        return await _configs(api, parts, method, request)
    return None


def _base(api: LambdaApi, name: str, shown_qualifier: str | None = None) -> Function:
    """The function named (a qualifier in the name is ignored), or AWS's not-found error."""
    function_name, _ = qualifiers.split_name(name)
    function = api.runtime.function(function_name)
    if function is None:
        arn = api.runtime.stack.function_arn(function_name)
        suffix = f":{shown_qualifier}" if shown_qualifier else ""
        raise _error(404, "ResourceNotFoundException", f"Function not found: {arn}{suffix}")
    return function


def _every_version(api: LambdaApi, function: Function) -> list[dict[str, Any]]:
    """$LATEST (its ARN qualified, as ListVersionsByFunction names it) and each published version."""
    latest = api._configuration(function)
    latest["FunctionArn"] = function.qualified_arn
    listed = [latest]
    for number in sorted(function.published.versions, key=int):
        version = function.at(number)
        if version is not None:
            listed.append(api._configuration(version))
    return listed


def _all_versions(api: LambdaApi) -> list[dict[str, Any]]:
    return [entry for function in api.runtime.functions.values() for entry in _every_version(api, function)]


async def _versions(api: LambdaApi, name: str, method: str, request: web.Request) -> web.Response | None:
    if method == "GET":
        return _page(_every_version(api, _base(api, name)), request.query, "Versions")
    if method != "POST":
        return None
    function = _base(api, name)
    body = await _body(request)
    description = body.get("Description")
    version = qualifiers.publish(
        function.published, function.spec, description if isinstance(description, str) else None
    )
    published = function.at(version.number)
    assert published is not None
    return web.json_response(api._configuration(published), status=201)


def _check_version(function: Function, version: Any) -> str:
    """The FunctionVersion of a CreateAlias/UpdateAlias, validated and existing."""
    if version is None:
        raise _validation(None, "functionVersion", "Member must not be null")
    if not isinstance(version, str) or not version or len(version) > 1024:
        raise _validation(version, "functionVersion", "Member must have length between 1 and 1024")
    if re.fullmatch(qualifiers.VERSION_PATTERN, version) is None:
        raise _validation(
            version, "functionVersion", f"Member must satisfy regular expression pattern: {qualifiers.VERSION_PATTERN}"
        )
    if version != qualifiers.LATEST and version not in function.published.versions:
        raise _error(404, "ResourceNotFoundException", f"Function not found: {function.arn}:{version}")
    return version


def _check_routing(body: dict[str, Any]) -> None:
    routing = body.get("RoutingConfig")
    if routing is None:
        return
    weights = routing.get("AdditionalVersionWeights") if isinstance(routing, dict) else routing
    if weights:
        raise _error(400, "InvalidParameterValueException", NO_WEIGHTS)


async def _aliases(
    api: LambdaApi, name: str, alias_name: str | None, method: str, request: web.Request
) -> web.Response | None:
    if alias_name is None and method == "GET":
        function = _base(api, name)
        wanted = request.query.get("FunctionVersion")
        listed = [
            _alias_api(function, alias)
            for _, alias in sorted(function.published.aliases.items())
            if wanted is None or alias.version == wanted
        ]
        return _page(listed, request.query, "Aliases")
    if alias_name is None and method == "POST":
        return await _create_alias(api, name, request)
    if alias_name is None:
        return None
    function = _base(api, name)
    alias = function.published.aliases.get(alias_name)
    arn = f"{function.arn}:{alias_name}"
    if method == "GET":
        if alias is None:
            raise _error(404, "ResourceNotFoundException", f"Cannot find alias arn: {arn}")
        return web.json_response(_alias_api(function, alias))
    if method == "DELETE":  # AWS answers 204 for an alias that does not exist too
        if function.published.aliases.pop(alias_name, None) is not None:
            function.published.configs.pop(alias_name, None)
        return web.Response(status=204)
    if method != "PUT":
        return None
    if alias is None:
        raise _error(404, "ResourceNotFoundException", f"Alias not found: {arn}")
    body = await _body(request)
    revision = body.get("RevisionId")
    if revision is not None and revision != alias.revision_id:
        raise _error(
            412,
            "PreconditionFailedException",
            "The Revision Id provided does not match the latest Revision Id. "
            "Call the GetFunction/GetAlias API to retrieve the latest Revision Id",
        )
    _check_routing(body)
    if "FunctionVersion" in body:
        alias.version = _check_version(function, body["FunctionVersion"])
    if isinstance(body.get("Description"), str):
        alias.description = body["Description"]
    alias.revision_id = qualifiers.revision()
    return web.json_response(_alias_api(function, alias))


async def _create_alias(api: LambdaApi, name: str, request: web.Request) -> web.Response:
    body = await _body(request)
    alias_name = body.get("Name")
    if alias_name is None:
        raise _validation(None, "name", "Member must not be null")
    if not isinstance(alias_name, str) or not qualifiers.valid_alias_name(alias_name):
        raise _validation(
            alias_name, "name", f"Member must satisfy regular expression pattern: {qualifiers.ALIAS_PATTERN}"
        )
    version = body.get("FunctionVersion")
    function = _base(api, name, version if isinstance(version, str) else None)
    _check_routing(body)
    version = _check_version(function, version)
    if alias_name in function.published.aliases:
        raise _error(409, "ResourceConflictException", f"Alias already exists: {function.arn}:{alias_name}")
    description = body.get("Description")
    alias = qualifiers.Alias(alias_name, version, description if isinstance(description, str) else "")
    function.published.aliases[alias_name] = alias
    return web.json_response(_alias_api(function, alias), status=201)


async def _configs(api: LambdaApi, parts: Sequence[str], method: str, request: web.Request) -> web.Response | None:
    """Event-invoke configs of versions and aliases, and the list of all; the unqualified and
    `$LATEST` calls (and an unknown function) are left to LambdaApi."""
    try:
        function_name, qualifier = qualifiers.requested(parts[2], request.query.get("Qualifier"))
    except qualifiers.QualifierMismatch as exc:
        raise _error(400, "InvalidParameterValueException", str(exc)) from exc
    function = api.runtime.function(function_name)
    if function is None:
        return None
    published = function.published
    if len(parts) == 5:
        if parts[4] != "list" or method != "GET":
            return None
        listed = [function.config.to_api(function.qualified_arn)] if function.config else []
        for key in [*sorted(published.versions, key=int), *sorted(published.aliases)]:
            config = published.configs.get(key)
            if config is not None:
                listed.append(config.to_api(f"{function.arn}:{key}"))
        return _page(listed, request.query, "FunctionEventInvokeConfigs")
    if qualifier is None or qualifier == qualifiers.LATEST:
        return None
    view = function.at(qualifier)
    missing = _error(
        404, "ResourceNotFoundException", f"The function {function.arn}:{qualifier} doesn't have an EventInvokeConfig"
    )
    if method in ("GET", "DELETE"):
        config = published.configs.get(qualifier) if view is not None else None
        if config is None:
            raise missing
        if method == "DELETE":
            del published.configs[qualifier]
            return web.Response(status=204)
        return web.json_response(config.to_api(f"{function.arn}:{qualifier}"))
    if method not in ("PUT", "POST"):
        return None
    # Checks the body first, then looks the qualifier up ("The function doesn't exist." when unknown)
    # and stores the config with the function (LambdaApi._put_config).
    return await api._put_config(parts[2], request, replace=method == "PUT")
