"""One execution environment of a function: the worker process that imports and runs its handler.

`handler_process.py` starts this file as a script (`python -u -c "runpy.run_path(...)"`) so the worker
imports only the standard library and the handler, never the sandbox (a cold start stays short). It
is also imported by the sandbox for `resolve_handler`, the one place a handler reference
(`module:function` or `path/to/file.py:function`) is resolved.

The worker process, as Lambda's Python runtime (awslambdaric) runs an environment:

- fd 0 is /dev/null for the handler; requests come on a private copy of the pipe the sandbox opened
  as its stdin, answers go back on another pipe (`argv[1]`). A third pipe (`argv[2]`) is the
  lifeline: it closes when the sandbox goes (stop, exit, SIGKILL), and the worker exits at once.
- stdout and stderr are pipes the sandbox drains, so what a handler prints never reaches the terminal
  directly.
- frames both ways: 4-byte big-endian length, one kind byte, a JSON body. To the worker: `I` (init:
  sys.path, the handler, the environment's log stream) then `V` (invoke: request id, payload,
  deadline, invoked ARN, version, client context, trace header). From it: `R` (ready), `F` (init
  failed: an error payload), `O` (the result as JSON), `E` (an error payload).
- module state survives between invokes of one process; `sys.exit()`, `os._exit()` or a crash ends
  the process (the sandbox reports Runtime.ExitError and starts another for the next event).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import json
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

# Imports are kept to the few a cold start needs (no logging, pathlib or traceback until used).

Handler = Callable[[Any, Any], Any]

HEADER = 4


class HandlerImportError(Exception):
    """A handler reference that does not resolve (the message says why, without where)."""

    def __init__(self, message: str, error_type: str) -> None:
        super().__init__(message)
        self.error_type = error_type  # Lambda's Python runtime's name for the fault


def resolve_handler(reference: str, base_dir: str | os.PathLike[str]) -> Handler:
    """`package.module:function` or `path/to/file.py:function` (relative to `base_dir`) -> the callable."""
    module_part, sep, attr = reference.rpartition(":")
    if not sep or not module_part or not attr:
        raise HandlerImportError(
            f"handler {reference!r} must look like module:function or file.py:function", "Runtime.MalformedHandlerName"
        )
    try:
        if module_part.endswith(".py") or "/" in module_part or "\\" in module_part:
            file = os.path.normpath(os.path.join(base_dir, module_part))  # an absolute module_part wins
            if not os.path.isfile(file):
                raise HandlerImportError(f"handler file {file} does not exist", "Runtime.ImportModuleError")
            module_name = f"lambdest_sandbox_handler_{abs(hash(os.path.realpath(file)))}"
            module = sys.modules.get(module_name)
            if module is None:
                spec = importlib.util.spec_from_file_location(module_name, file)
                if spec is None or spec.loader is None:
                    raise HandlerImportError(f"cannot load {file}", "Runtime.ImportModuleError")
                module = importlib.util.module_from_spec(spec)
                sys.modules[module_name] = module
                try:
                    spec.loader.exec_module(module)
                except BaseException:
                    del sys.modules[module_name]
                    raise
        else:
            module = importlib.import_module(module_part)
    except HandlerImportError:
        raise
    except Exception as exc:
        error_type = "Runtime.UserCodeSyntaxError" if isinstance(exc, SyntaxError) else "Runtime.ImportModuleError"
        raise HandlerImportError(f"importing {module_part!r} failed: {type(exc).__name__}: {exc}", error_type) from exc
    handler = getattr(module, attr, None)
    if not callable(handler):
        raise HandlerImportError(f"{module_part!r} has no function {attr!r}", "Runtime.HandlerNotFound")
    return handler  # type: ignore[no-any-return]


# -- the context, as awslambdaric's lambda_context.py builds it ----------------------------------------


class CognitoIdentity:
    """`context.identity`: both fields None unless the caller was a Cognito identity (never here)."""

    __slots__ = ("cognito_identity_id", "cognito_identity_pool_id")

    def __init__(self) -> None:
        self.cognito_identity_id: str | None = None
        self.cognito_identity_pool_id: str | None = None


class Client:
    """`context.client_context.client`: the mobile client's description."""

    __slots__ = ("app_package_name", "app_title", "app_version_code", "app_version_name", "installation_id")

    def __init__(self, data: dict[str, Any]) -> None:
        for name in self.__slots__:
            setattr(self, name, data.get(name))


class ClientContext:
    """`context.client_context`: the decoded X-Amz-Client-Context of a synchronous invoke."""

    __slots__ = ("client", "custom", "env")

    def __init__(self, data: dict[str, Any]) -> None:
        self.custom: Any = data.get("custom")
        self.env: Any = data.get("env")
        client = data.get("client")
        self.client: Client | None = Client(client) if isinstance(client, dict) else None


class LambdaContext:
    """The `context` a handler gets, with the attributes of Lambda's Python runtime."""

    def __init__(
        self,
        request_id: str,
        deadline_ms: int,
        invoked_function_arn: str,
        client_context: dict[str, Any] | None,
    ) -> None:
        self.aws_request_id = request_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = invoked_function_arn
        self.client_context = ClientContext(client_context) if client_context is not None else None
        self.identity = CognitoIdentity()
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))

    def log(self, msg: object) -> None:
        sys.stdout.write(str(msg))


# -- running the handler ----------------------------------------------------------------------------------


def error_payload(exc: BaseException, request_id: str) -> dict[str, Any]:
    """Lambda's Python runtime's error payload, the worker's own frames left out."""
    import traceback

    frames = [frame for frame in traceback.extract_tb(exc.__traceback__) if frame.filename != __file__]
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "requestId": request_id,
        "stackTrace": traceback.format_list(frames),
    }


def run(handler: Handler, request: dict[str, Any]) -> tuple[bytes, bytes]:
    """One invoke: the answer's kind and body. SystemExit is not caught: it ends the process, as on Lambda."""
    request_id = request["id"]
    os.environ["AWS_LAMBDA_FUNCTION_VERSION"] = request["version"]
    os.environ["_X_AMZN_TRACE_ID"] = request["trace"]
    context = LambdaContext(request_id, request["deadline_ms"], request["arn"], request.get("client_context"))
    try:
        result = handler(request["payload"], context)
    except Exception as exc:
        return b"E", json.dumps(error_payload(exc, request_id)).encode()
    try:
        body = json.dumps(result)
    except (TypeError, ValueError) as exc:  # awslambdaric's lambda_runtime_marshaller.py wording
        error = {
            "errorMessage": f"Unable to marshal response: {exc}",
            "errorType": "Runtime.MarshalError",
            "requestId": request_id,
            "stackTrace": [],
        }
        return b"E", json.dumps(error).encode()
    return b"O", body.encode()


def _read_exactly(fd: int, size: int) -> bytes:
    chunks: list[bytes] = []
    while size:
        chunk = os.read(fd, size)
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def read_frame(fd: int) -> tuple[bytes, Any]:
    size = int.from_bytes(_read_exactly(fd, HEADER), "big")
    data = _read_exactly(fd, size)
    return data[:1], json.loads(data[1:]) if len(data) > 1 else None


def write_frame(fd: int, kind: bytes, body: bytes) -> None:
    data = (len(body) + 1).to_bytes(HEADER, "big") + kind + body
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _watch(lifeline: int) -> None:
    """Exit at once when the sandbox's end of the lifeline closes (it stopped, or died)."""
    with contextlib.suppress(OSError):
        while os.read(lifeline, 1):
            pass
    os._exit(0)


def main(argv: list[str]) -> None:
    answers, lifeline = int(argv[1]), int(argv[2])
    requests = os.dup(0)  # non-inheritable: a subprocess of the handler must not read our requests
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.set_inheritable(answers, False)
    os.set_inheritable(lifeline, False)
    threading.Thread(target=_watch, args=(lifeline,), name="lifeline", daemon=True).start()
    kind, init = read_frame(requests)
    sys.path[:] = init["sys_path"]
    try:
        handler = resolve_handler(init["handler"], init["base_dir"])
    except HandlerImportError as exc:  # awslambdaric's shape for an init fault
        error = {"errorMessage": str(exc), "errorType": exc.error_type, "requestId": "", "stackTrace": []}
        write_frame(answers, b"F", json.dumps(error).encode())
        return
    write_frame(answers, b"R", b"")
    while True:
        try:
            kind, request = read_frame(requests)
        except EOFError:
            return
        if kind == b"V":
            answer, body = run(handler, request)
            sys.stdout.flush()
            sys.stderr.flush()
            write_frame(answers, answer, body)


if __name__ == "__main__":
    main(sys.argv)
