"""The sandbox's one endpoint: Lambda's API served by us, every other AWS call proxied to moto.

A request is ours when its SigV4 credential scope names the `lambda` service, or when its path is a
Lambda API path (`/2015-03-31/functions...`, `/2019-09-25/functions...`). Served:

  POST   /2015-03-31/functions/{name}/invocations          Invoke (Event -> 202, RequestResponse, DryRun -> 204)
  GET    /2015-03-31/functions/                            ListFunctions (paginated)      } lambda_reads.py
  GET    /2015-03-31/functions/{name}/configuration        GetFunctionConfiguration       }
  *      /2015-03-31/event-source-mappings/[{UUID}]        the EventSourceMapping calls: stream_api.py
  GET    /2015-03-31/functions/{name}                      GetFunction
  PUT    /2015-03-31/functions/{name}/configuration        UpdateFunctionConfiguration    function_config.py
  PUT    /2019-09-25/functions/{name}/event-invoke-config  PutFunctionEventInvokeConfig
  POST   /2019-09-25/functions/{name}/event-invoke-config  UpdateFunctionEventInvokeConfig
  GET    /2019-09-25/functions/{name}/event-invoke-config  GetFunctionEventInvokeConfig
  DELETE /2019-09-25/functions/{name}/event-invoke-config  DeleteFunctionEventInvokeConfig
  GET    /2019-09-25/functions/{name}/event-invoke-config/list   ListFunctionEventInvokeConfigs
  PUT    /2024-08-31/functions/{name}/recursion-config     PutFunctionRecursionConfig  } recursion.py
  GET    /2024-08-31/functions/{name}/recursion-config     GetFunctionRecursionConfig  }
  .../versions, .../aliases[/{alias}], configs of versions and aliases    versions.py

A qualifier (`?Qualifier=`, `name:qualifier`, a qualified ARN) names a published version or alias:
`_function` answers the function's view through it (qualifiers.py), which Invoke runs and
GetFunction(Configuration) describes.

Errors have AWS's shape: the `x-amzn-ErrorType` header and a `{"Type", "message"}` body (see
`LambdaApiError.response`); what Put/UpdateFunctionEventInvokeConfig refuse, and in which words, is
invoke_config_checks.py.

Every request (Lambda's and the proxied ones) must look like an AWS SDK's: signed with SigV4 (an
`Authorization: AWS4-HMAC-SHA256 Credential=...` header; the signature itself is not checked, any
credentials do; presigned URLs are refused) and addressed to a loopback name (Host 127.0.0.1, localhost, a name under
.localhost or [::1], any port). Anything else is answered 403 as AWS answers an unsigned request.
A web page the user visits can therefore not drive the sandbox: a browser sends no such header
across sites without a CORS preflight, which gets the same 403, and a DNS-rebound name is refused.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import aiohttp
from aiohttp import web

from records.sandbox import function_config, lambda_reads, qualifiers, recursion, stream_api, versions
from records.sandbox import invoke_config_checks as checks
from records.sandbox.api_errors import LambdaApiError, invalid
from records.sandbox.runtime import EventInvokeConfig, Function, Runtime
from records.sandbox.streams import StreamPollers

if TYPE_CHECKING:
    from records.sandbox.permissions import Permissions

log = logging.getLogger(__name__)

_SERVICE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/(?P<service>[a-z0-9-]+)/aws4_request")
_LAMBDA_PATHS = (
    "/2015-03-31/functions",
    "/2015-03-31/event-source-mappings",
    "/2019-09-25/functions",
    "/2024-08-31/functions",
    "/2018-10-31/layers",
    "/2017-03-31/tags",
)
_HOP_HEADERS = {"host", "content-length", "transfer-encoding", "connection", "keep-alive"}
_SIGV4 = "AWS4-HMAC-SHA256 Credential="
_LOOPBACK_NAMES = {"127.0.0.1", "localhost", "::1"}


def _loopback_host(host: str | None) -> bool:
    """Whether a Host header names this machine's loopback: 127.0.0.1, localhost (or a name under
    .localhost) or [::1], with any port."""
    if not host:
        return False
    host = host.strip().lower()
    if host.startswith("["):
        name, bracket, port = host[1:].partition("]")
        if not bracket or (port and not (port.startswith(":") and port[1:].isdigit())):
            return False
    else:
        name, colon, port = host.partition(":")
        if colon and not port.isdigit():
            return False
    return name in _LOOPBACK_NAMES or name.endswith(".localhost")


def _signed(request: web.Request) -> bool:
    """Whether a request carries a SigV4 Authorization header, as every AWS SDK and CLI request
    does. A presigned URL (signed in its query string) is refused: a web page can make a browser
    GET any URL, and moto would act on a query-protocol `?Action=...` in one."""
    return request.headers.get("Authorization", "").startswith(_SIGV4)


def refusal(request: web.Request) -> LambdaApiError | None:
    """Why the sandbox does not answer a request (None when it does)."""
    if not _loopback_host(request.headers.get("Host")):
        return LambdaApiError(
            403,
            "AccessDeniedException",
            "The sandbox answers only requests addressed to 127.0.0.1, localhost or [::1] "
            f"(this one was addressed to {request.headers.get('Host') or 'no host'}).",
        )
    if not _signed(request):
        return LambdaApiError(
            403,
            "MissingAuthenticationTokenException",
            "Missing Authentication Token: the sandbox answers only requests signed with AWS Signature "
            "Version 4, as AWS SDKs and the AWS CLI send them (any credentials).",
        )
    return None


def _not_found(runtime: Runtime, name: str) -> LambdaApiError:
    arn = name if name.startswith("arn:") else runtime.stack.function_arn(name)
    return LambdaApiError(404, "ResourceNotFoundException", f"Function not found: {arn}")


def _unparsable(exc: Exception) -> LambdaApiError:
    return LambdaApiError(400, "InvalidRequestContentException", f"Could not parse request body into json: {exc}")


def _client_context(header: str | None) -> dict[str, Any] | None:
    """The X-Amz-Client-Context of a synchronous invoke: base64 JSON (up to 3583 bytes, Lambda's
    Invoke API reference), handed to the handler as `context.client_context`."""
    if not header:
        return None
    try:
        decoded = json.loads(base64.b64decode(header, validate=True)) if len(header) <= 3583 else None
    except (ValueError, UnicodeDecodeError):
        decoded = None
    if not isinstance(decoded, dict):
        # Lambda's wording, as AWS answers it (quoted in aws/aws-sdk-js issue #1388).
        raise LambdaApiError(
            400, "InvalidRequestContentException", "Client context must be a valid Base64-encoded JSON object."
        )
    return decoded


class LambdaApi:
    """The aiohttp application behind the sandbox endpoint."""

    def __init__(self, runtime: Runtime, moto_url: str, permissions: Permissions | None = None) -> None:
        self.runtime = runtime
        self.permissions = permissions  # the functions' roles (UpdateFunctionConfiguration checks the DLQ's)
        self.moto_url = moto_url.rstrip("/")
        self.streams: StreamPollers | None = None  # the event source mappings (set by the sandbox)
        self._session: aiohttp.ClientSession | None = None
        # Whether an SNS topic or EventBridge bus exists (set by the sandbox: delivery.Delivery.exists);
        # None: destinations are not looked up when configured.
        self.destination_exists: Callable[[str], Awaitable[bool]] | None = None
        self.app = web.Application(client_max_size=8 * 1024 * 1024)
        self.app.router.add_route("*", "/{tail:.*}", self.dispatch)
        self.app.on_cleanup.append(self._close)

    async def _close(self, _app: web.Application) -> None:
        if self._session is not None:
            await self._session.close()

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        refused = refusal(request)
        if refused is not None:
            return refused.response()
        try:
            if not self._is_lambda(request):
                return await self._proxy(request)
            return await self._lambda(request)
        except LambdaApiError as exc:
            return exc.response()
        except aiohttp.ClientError as exc:
            log.warning("sandbox: moto did not answer %s %s: %s", request.method, request.path, exc)
            return LambdaApiError(502, "ServiceException", f"the sandbox's moto did not answer: {exc}").response()
        except Exception as exc:
            log.exception("sandbox: %s %s failed", request.method, request.path)
            return LambdaApiError(500, "ServiceException", f"sandbox error: {type(exc).__name__}: {exc}").response()

    @staticmethod
    def _is_lambda(request: web.Request) -> bool:
        match = _SERVICE.search(request.headers.get("Authorization", ""))
        if match is not None:
            return match["service"] == "lambda"
        return request.path.startswith(_LAMBDA_PATHS)

    # -- Lambda ---------------------------------------------------------------------------------

    async def _lambda(self, request: web.Request) -> web.StreamResponse:
        parts = [unquote(part) for part in request.path.strip("/").split("/")]
        method = request.method
        answered = await versions.answer(self, parts, method, request)  # versions, aliases and their configs
        if answered is not None:
            return answered
        try:
            read = lambda_reads.answer(
                parts,
                method,
                request.query,
                self._configurations,
                lambda name: self._configuration(self._function(name, request)),
            )
        except lambda_reads.PageError as exc:
            raise invalid(str(exc)) from exc
        if read is not None:
            return read
        recursion_config = await recursion.answer(
            parts, method, request, lambda name: self._function(name, request), LambdaApiError
        )
        if recursion_config is not None:
            return recursion_config
        if self.streams is not None:
            mapped = await stream_api.answer(parts, request, self.streams)
            if mapped is not None:
                return mapped
        update = await function_config.answer(
            parts, request, lambda name: self._function(name, request), self._configuration, self.permissions
        )
        if update is not None:
            return update
        if len(parts) >= 2 and parts[0] == "2015-03-31" and parts[1] == "functions":
            if len(parts) == 3 and method == "GET":
                return self._get_function(self._function(parts[2], request))
            if len(parts) == 4 and parts[3] == "invocations" and method == "POST":
                return await self._invoke(self._function(parts[2], request), request)
        if (
            len(parts) >= 4
            and parts[0] == "2019-09-25"
            and parts[1] == "functions"
            and parts[3] == "event-invoke-config"
        ):
            if len(parts) == 5 and parts[4] == "list" and method == "GET":
                # versions.answer lists every qualifier's config of a function it knows: only an
                # unknown function reaches here, and gets AWS's wording for List.
                self._config_function(parts[2], request, "LIST")
            if len(parts) == 4:
                if method == "GET":
                    return self._get_config(self._config_function(parts[2], request, method))
                if method == "DELETE":
                    function = self._config_function(parts[2], request, method)
                    if function.config is None:
                        raise self._no_config(function)
                    function.config = None
                    return web.Response(status=204)
                if method in ("PUT", "POST"):
                    return await self._put_config(parts[2], request, replace=method == "PUT")
        raise LambdaApiError(
            400,
            "InvalidRequestContentException",
            f"{method} {request.path} is not supported by the lambdest-tui sandbox",
        )

    def _function(self, name: str, request: web.Request) -> Function:
        """The function a call names (`name`, `name:qualifier`, an ARN, `?Qualifier=`): the function
        itself, or its view through a version or alias (qualifiers.py)."""
        asked = request.query.get("Qualifier")
        try:
            function_name, qualifier = qualifiers.requested(name, asked)
        except qualifiers.QualifierMismatch as exc:
            raise invalid(str(exc)) from exc
        function = self.runtime.function(function_name)
        if function is None:
            named = name if asked is None or qualifiers.split_name(name)[1] is not None else f"{name}:{asked}"
            raise _not_found(self.runtime, named)
        found = function.at(qualifier)
        if found is None:
            raise _not_found(self.runtime, f"{function.arn}:{qualifier}")
        return found

    def _configuration(self, function: Function) -> dict[str, Any]:
        return {
            "FunctionName": function.name,
            "FunctionArn": function.arn if function.qualifier is None else function.qualified_arn,
            "Runtime": "python3.12",
            "Role": self.runtime.stack.role_arn(function.name),
            "Handler": function.spec.handler,
            "CodeSize": 0,
            "Description": function.description,
            "Timeout": int(function.spec.timeout),
            "MemorySize": 128,
            "LastModified": function.last_modified,
            "Version": function.version,
            "State": "Active",
            "LastUpdateStatus": "Successful",
            "PackageType": "Zip",
            "Architectures": ["x86_64"],
            **({"DeadLetterConfig": {"TargetArn": function.dead_letter}} if function.dead_letter else {}),
        }

    def _configurations(self) -> list[dict[str, Any]]:
        return [self._configuration(function) for function in self.runtime.functions.values()]

    def _get_function(self, function: Function) -> web.Response:
        body: dict[str, Any] = {
            "Configuration": self._configuration(function),
            "Code": {"RepositoryType": "S3", "Location": ""},
            "Tags": {},
        }
        if function.spec.reserved_concurrency is not None:
            body["Concurrency"] = {"ReservedConcurrentExecutions": function.spec.reserved_concurrency}
        return web.json_response(body)

    async def _invoke(self, function: Function, request: web.Request) -> web.StreamResponse:
        invocation_type = request.headers.get("X-Amz-Invocation-Type", "RequestResponse")
        body = await request.read()
        try:
            payload = json.loads(body) if body.strip() else {}
        except (ValueError, UnicodeDecodeError) as exc:
            raise _unparsable(exc) from exc
        request_id = str(uuid.uuid4())
        lineage = recursion.parse_header(request.headers.get("X-Amzn-Trace-Id"))  # the caller's chain
        headers = {"x-amzn-RequestId": request_id}
        if invocation_type == "DryRun":
            return web.Response(status=204, headers=headers)
        if invocation_type == "Event":
            if len(body) > 1024 * 1024:
                raise LambdaApiError(413, "RequestTooLargeException", "Request must be smaller than 1048576 bytes")
            sent = body.decode(errors="replace") if body.strip() else "{}"  # a DLQ gets it back unchanged
            self.runtime.enqueue(function, payload, request_id, lineage=lineage, body=sent)
            return web.Response(status=202, headers=headers)
        if invocation_type != "RequestResponse":
            raise invalid(f"Invalid InvocationType {invocation_type!r}: use Event, RequestResponse or DryRun")
        client_context = _client_context(request.headers.get("X-Amz-Client-Context"))
        if self.runtime.throttled(function):  # reserved concurrency reached (or 0)
            self.runtime.throttle(function)
            # AWS's body: {"Reason": "ReservedFunctionConcurrentInvocationLimitExceeded", "Type": "User",
            # "message": "Rate Exceeded."} (as recorded in erlcloud's Lambda tests)
            raise LambdaApiError(
                429, "TooManyRequestsException", "Rate Exceeded.", "ReservedFunctionConcurrentInvocationLimitExceeded"
            )
        if recursion.stops(function, lineage):
            self.runtime.count(function, recursion.METRIC)
            raise LambdaApiError(400, recursion.ERROR_TYPE, recursion.ERROR_MESSAGE)
        trace = recursion.trace_header(recursion.advanced(lineage, function.arn))
        outcome = await self.runtime.run_once(
            function, payload, request_id, trace_header=trace, client_context=client_context
        )
        # Only a RequestResponse answer names the version that ran (alias resolved); AWS sends no
        # X-Amz-Executed-Version for Event (202) or DryRun (204): AWS-recorded responses in
        # localstack's test_lambda.snapshot.json (test_invocation_type_no_return_payload).
        headers["X-Amz-Executed-Version"] = function.version
        if outcome.function_error is not None:
            headers["X-Amz-Function-Error"] = outcome.function_error
        return web.Response(status=200, body=outcome.body(), headers=headers, content_type="application/json")

    # -- event-invoke config ----------------------------------------------------------------------

    def _no_config(self, function: Function) -> LambdaApiError:
        return LambdaApiError(
            404,
            "ResourceNotFoundException",
            f"The function {function.qualified_arn} doesn't have an EventInvokeConfig",
        )

    def _get_config(self, function: Function) -> web.Response:
        if function.config is None:
            raise self._no_config(function)
        return web.json_response(function.config.to_api(function.qualified_arn))

    def _config_function(self, name: str, request: web.Request, method: str) -> Function:
        """The function an event-invoke-config call names, refused with AWS's wording for that call
        when it (or its qualifier) does not exist (invoke_config_checks.function_missing)."""
        try:
            return self._function(name, request)
        except LambdaApiError as exc:
            if exc.status != 404:
                raise
            if name.startswith("arn:"):
                fields = name.split(":")
                arn, qualifier = ":".join(fields[:7]), ":".join(fields[7:])
            else:
                base, _, qualifier = name.partition(":")
                arn = self.runtime.stack.function_arn(base)
            message = checks.function_missing(method, arn, request.query.get("Qualifier") or qualifier or None)
            raise LambdaApiError(404, "ResourceNotFoundException", message) from exc

    async def _put_config(self, name: str, request: web.Request, replace: bool) -> web.Response:
        try:
            body = await request.json()
        except ValueError as exc:
            raise _unparsable(exc) from exc
        if not isinstance(body, dict):
            raise LambdaApiError(400, "InvalidRequestContentException", "the request body must be a JSON object")
        try:
            checks.check_types(body)
            checks.check_shape(body)
        except checks.Refused as exc:
            raise LambdaApiError(400, exc.code, exc.message) from exc
        function = self._config_function(name, request, request.method)
        if not replace and function.config is None:
            raise self._no_config(function)
        found = checks.destinations(body)
        try:
            await checks.check_destinations(
                function.name,
                found,
                lambda arn: self.runtime.function(arn) is not None,
                self.destination_exists,
            )
        except checks.Refused as exc:
            raise LambdaApiError(400, exc.code, exc.message) from exc
        config = EventInvokeConfig() if replace or function.config is None else function.config
        new = EventInvokeConfig(
            config.maximum_retry_attempts, config.maximum_event_age, config.on_success, config.on_failure
        )
        if "MaximumRetryAttempts" in body:
            new.maximum_retry_attempts = body["MaximumRetryAttempts"]
        if "MaximumEventAgeInSeconds" in body:
            new.maximum_event_age = body["MaximumEventAgeInSeconds"]
        for key, attr in (("OnSuccess", "on_success"), ("OnFailure", "on_failure")):
            if key in found:
                setattr(new, attr, found[key])
        function.config = new
        if function.qualifier not in (None, qualifiers.LATEST):  # a view (a copy): the config lives with the function
            base = self.runtime.function(function.name)
            if base is not None:
                base.published.configs[function.qualifier] = new
        return web.json_response(new.to_api(function.qualified_arn))

    # -- proxy to moto ------------------------------------------------------------------------------

    async def _proxy(self, request: web.Request) -> web.StreamResponse:
        if self._session is None:
            self._session = aiohttp.ClientSession(auto_decompress=False)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_HEADERS}
        body = await request.read()
        async with self._session.request(
            request.method,
            self.moto_url + request.raw_path,
            headers=headers,
            data=body,
            allow_redirects=False,
        ) as upstream:
            payload = await upstream.read()
            out_headers = {k: v for k, v in upstream.headers.items() if k.lower() not in _HOP_HEADERS}
            return web.Response(status=upstream.status, body=payload, headers=out_headers)
