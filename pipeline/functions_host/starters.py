"""Invoking client functions (starters) the way the worker does, with the durable client binding filled in.

A function decorated with `@app.durable_client_input(client_name="client")` is registered as a wrapper
(`df_client_middleware`) that takes the binding's JSON *string* under `client` and builds the
`DurableOrchestrationClient` itself. The worker calls it with keyword arguments named after the bindings.
So a starter runs unmodified if it is called with `client=<client binding JSON>`; `call_function` does
that for every `durableClient` binding the caller did not supply, and adds `context` when the function
declares it (the wrapper reads `context.invocation_id`). Plain (non-async) functions run in the default
thread pool, as the worker runs them.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import re
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import azure.functions as func

from pipeline.functions_host.activities import InvocationContext
from pipeline.functions_host.indexing import DURABLE_CLIENT, FunctionIndex, IndexedFunction

ClientJson = Callable[[str | None, str | None], str]


def resolve_function(index: FunctionIndex, function: str | Any) -> IndexedFunction:
    """Find a function by name, by its `FunctionBuilder` (what the decorators return) or by its callable."""
    if isinstance(function, str):
        return index.get(function)
    built = getattr(function, "_function", None)
    if built is not None and hasattr(built, "get_function_name"):
        return index.get(str(built.get_function_name()))
    for candidate in index:
        if candidate.callable is function or getattr(candidate.callable, "client_function", None) is function:
            return candidate
    raise LookupError(f"{function!r} is not a function of this app")


async def call_function(function: IndexedFunction, client_json: ClientJson, **kwargs: Any) -> Any:
    """Call `function` like the worker: bindings by name, durable clients and `context` filled in."""
    for binding in function.bindings_of_type(DURABLE_CLIENT):
        kwargs.setdefault(binding["name"], client_json(binding.get("taskHub"), binding.get("connectionName")))
    parameters = inspect.signature(function.callable).parameters
    if "context" in parameters and "context" not in kwargs:
        kwargs["context"] = InvocationContext(invocation_id=str(uuid.uuid4()), function_name=function.name)
    if inspect.iscoroutinefunction(function.callable):
        return await function.callable(**kwargs)
    # The worker runs plain functions in its thread pool.
    result = await asyncio.get_running_loop().run_in_executor(None, functools.partial(function.callable, **kwargs))
    return await result if inspect.isawaitable(result) else result


def http_request(
    origin: str,
    method: str,
    path: str,
    *,
    body: bytes | str | None = None,
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, str] | None = None,
    route_params: Mapping[str, str] | None = None,
) -> func.HttpRequest:
    """An `HttpRequest` as the host builds it, addressed to `origin` (so check-status links point there)."""
    data = body.encode() if isinstance(body, str) else (body or b"")
    return func.HttpRequest(
        method=method.upper(),
        url=f"{origin}/api/{path.lstrip('/')}",
        headers=dict(headers or {}),
        params=dict(params or {}),
        route_params=dict(route_params or {}),
        body=data,
    )


def match_route(template: str, path: str) -> dict[str, str] | None:
    """Route parameters of `path` under an HTTP trigger's route template (`orders/{id:int}/{rest?}`)."""
    pattern = ""
    for literal, name, optional in re.findall(r"([^{]*)(?:\{(\w+)(?::[^}?]*)?(\?)?\})?", template.strip("/")):
        pattern += re.escape(literal)
        if name:
            pattern += f"(?P<{name}>[^/]*)" if optional else f"(?P<{name}>[^/]+)"
    match = re.fullmatch(pattern.replace("/(?P<", "/?(?P<"), path.strip("/"))
    return {key: value for key, value in match.groupdict().items() if value} if match else None
