"""Indexing an app like the Functions host: triggers, bindings, callables, Durable names."""

from __future__ import annotations

import inspect

import pytest

from pipeline.functions_host.indexing import FunctionNotFoundError, index_app
from tests.unit.toy_durable_app import app


def test_every_function_is_indexed_with_its_trigger_type() -> None:
    index = index_app(app)

    triggers = {function.name: function.trigger_type for function in index}

    assert triggers["http_start"] == "httpTrigger"
    assert triggers["start_pipeline"] == "timerTrigger"
    assert triggers["ingest_events"] == "eventHubTrigger"
    assert triggers["sequence"] == "orchestrationTrigger"
    assert triggers["say_hello"] == "activityTrigger"
    assert [f.name for f in index.by_trigger("eventHubTrigger")] == ["ingest_events"]


def test_indexing_twice_works_although_get_functions_refuses_a_second_call() -> None:
    app.functions_bindings = None
    app.get_functions()
    with pytest.raises(ValueError, match="unique function name"):
        app.get_functions()

    first, second = index_app(app), index_app(app)

    assert len(first) == len(second) > 10
    assert app.functions_bindings is None


def test_bindings_are_read_as_the_host_reads_them_with_enums_as_strings() -> None:
    function = index_app(app).get("ingest_events")

    assert function.trigger == {
        "direction": "IN",
        "type": "eventHubTrigger",
        "name": "events",
        "connection": "EventHubConnection",
        "eventHubName": "ingest",
        "cardinality": "MANY",
    }
    assert [b["name"] for b in function.bindings_of_type("durableClient")] == ["client"]
    assert function.trigger_parameter == "events"


def test_durable_names_come_from_the_trigger_property_when_set() -> None:
    index = index_app(app)

    assert index.activity("shout").name == "shout_impl"
    assert index.has_activity("shout") and not index.has_activity("shout_impl")
    assert index.orchestrator("sequence").durable_name == "sequence"
    with pytest.raises(FunctionNotFoundError, match="no activity named 'sequence'"):
        index.activity("sequence")


def test_callables_are_what_the_worker_invokes() -> None:
    index = index_app(app)

    orchestrator = index.orchestrator("sequence").callable
    starter = index.get("http_start").callable

    assert orchestrator.orchestrator_function.__name__ == "sequence"
    assert inspect.iscoroutinefunction(starter)
    assert starter.__annotations__["client"] is str  # the DF wrapper takes the binding JSON string
    assert {f.name for f in index.starters} == {"http_start", "start_pipeline", "ingest_events"}
