"""Running one activity attempt the way the Python worker and the Durable extension do.

Input and output cross the same JSON boundary as in Azure: the scheduled input (JSON text written by the
orchestrator) is decoded with the SDK's own `ActivityTriggerConverter`, and the return value is encoded by
it (`df_dumps`: tuples become lists, a datetime fails the attempt). `async def` activities run on the
event loop; plain functions run in the default thread pool, as the worker runs them.

A failure becomes `TaskFailed` with the extension's wording: `Reason` is
`Activity function '<name>' failed: <ExceptionType>: <message>` and `Details` the serialized cause.
The orchestrator receives `Exception(f"{Reason} \\n {Details}")`: the original type is lost.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import json
import os
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from azure.functions import meta
from azure.functions.durable_functions import ActivityTriggerConverter

from pipeline.functions_host.indexing import IndexedFunction

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


class ActivityFailure(Exception):
    """An attempt failed; `reason` and `details` are what `TaskFailed` carries."""

    def __init__(self, reason: str, details: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = details


@dataclass(frozen=True)
class InvocationContext:
    """The `context` argument the worker passes to a function that declares one (`func.Context` shape)."""

    invocation_id: str
    function_name: str
    function_directory: str = "."
    trace_context: Any = None
    retry_context: Any = None
    thread_local_storage: Any = None


async def run_activity(function: IndexedFunction, input_json: str | None) -> str:
    """Run one attempt of `function` with the scheduled input; return the result as JSON text.

    Raises:
        ActivityFailure: the function raised, its arguments could not be bound, or its result is not JSON.
    """
    activity_name = function.durable_name or function.name
    try:
        value = ActivityTriggerConverter.decode(
            meta.Datum(value=input_json if input_json is not None else "null", type="json"), trigger_metadata=None
        )
        kwargs = _arguments(function, value)
        result = await _call(function.callable, kwargs)
        encoded = ActivityTriggerConverter.encode(result, expected_type=None)
        return str(encoded.value)
    except Exception as exc:
        raise failure_for(activity_name, exc) from exc


def failure_for(activity_name: str, exc: BaseException) -> ActivityFailure:
    """`TaskFailed.Reason` / `Details` for an exception raised by an activity."""
    message = f"{type(exc).__name__}: {exc}"
    details = {
        "$type": "Microsoft.Azure.WebJobs.Script.Workers.Rpc.RpcException, Microsoft.Azure.WebJobs.Script",
        "ClassName": "Microsoft.Azure.WebJobs.Script.Workers.Rpc.RpcException",
        "Message": message,
        "RemoteMessage": message,
        "RemoteTypeName": f"{type(exc).__module__}.{type(exc).__qualname__}",
        "RemoteStackTrace": _user_stack(exc),
        "IsUserException": True,
    }
    return ActivityFailure(f"Activity function '{activity_name}' failed: {message}", json.dumps(details))


def _user_stack(exc: BaseException) -> str:
    """The traceback without the local host's and the thread pool's frames."""
    frames = [
        frame
        for frame in traceback.extract_tb(exc.__traceback__)
        if not frame.filename.startswith(_PACKAGE_DIR) and "concurrent/futures" not in frame.filename
    ]
    return "".join(traceback.format_list(frames)) + "".join(traceback.format_exception_only(exc))


def missing_activity_failure(activity_name: str) -> ActivityFailure:
    """What an attempt of an activity the app does not define fails with."""
    reason = f"The function '{activity_name}' doesn't exist, is disabled, or is not an activity function."
    return ActivityFailure(reason, json.dumps({"Message": reason}))


def _arguments(function: IndexedFunction, value: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = {function.trigger_parameter: value}
    parameters = inspect.signature(function.callable).parameters
    if "context" in parameters and "context" not in kwargs:
        kwargs["context"] = InvocationContext(invocation_id=str(uuid.uuid4()), function_name=function.name)
    unbound = [
        name
        for name, parameter in parameters.items()
        if name not in kwargs
        and parameter.default is inspect.Parameter.empty
        and parameter.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    ]
    if unbound:
        raise TypeError(
            f"activity {function.name!r} needs bindings the local host does not provide: {', '.join(unbound)}"
        )
    return kwargs


async def _call(callable_: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
    if inspect.iscoroutinefunction(callable_):
        return await callable_(**kwargs)
    loop = asyncio.get_running_loop()
    result = await loop.run_in_executor(None, functools.partial(callable_, **kwargs))
    if inspect.isawaitable(result):
        return await result
    return result
