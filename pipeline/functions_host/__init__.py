"""A local stand-in for the Azure Functions host's Durable Functions runtime.

`LocalFunctionsHost` indexes a `df.DFApp`, serves the Durable extension's HTTP API on a loopback port so
unmodified starter functions and `DurableOrchestrationClient` work, and runs the real orchestrator and
activity functions to completion by feeding them Durable Task histories, as the extension does.
"""

from pipeline.functions_host.history_store import HistoryStore, InMemoryHistoryStore, InstanceRecord, RuntimeStatus
from pipeline.functions_host.host import LocalFunctionsHost
from pipeline.functions_host.indexing import FunctionIndex, IndexedFunction, index_app
from pipeline.functions_host.instance_runtime import EngineStats
from pipeline.functions_host.replay import OrchestrationEngine
from pipeline.functions_host.sdk_session import close_client_session, reset_client_session

__all__ = [
    "EngineStats",
    "FunctionIndex",
    "HistoryStore",
    "InMemoryHistoryStore",
    "IndexedFunction",
    "InstanceRecord",
    "LocalFunctionsHost",
    "OrchestrationEngine",
    "RuntimeStatus",
    "close_client_session",
    "index_app",
    "reset_client_session",
]
