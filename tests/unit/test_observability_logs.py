"""Structured JSON logs carry the correlation context on every line, even across concurrent batches."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from pipeline.observability import batch_scope, bind, configure_logging, correlation, event_scope
from pipeline.observability.logs import APP_LOGGERS, QUIET_LOGGERS, CorrelationFilter, JsonFormatter, TextFormatter

VALID = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


@contextmanager
def restored_logging() -> Iterator[None]:
    """Put the root handlers and the levels this module's tests change back as they were."""
    root = logging.getLogger()
    names = ("", *APP_LOGGERS, *QUIET_LOGGERS)
    handlers, levels = list(root.handlers), {name: logging.getLogger(name).level for name in names}
    try:
        yield
    finally:
        root.handlers[:] = handlers
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    """Root logging into a string buffer as JSON lines; the previous set-up is restored after."""
    buffer = io.StringIO()
    with restored_logging():
        configure_logging("DEBUG", stream=buffer)
        yield buffer


def lines(buffer: io.StringIO) -> list[dict]:
    """The JSON lines the tests' own loggers wrote (not asyncio's and the like)."""
    found = [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]
    return [line for line in found if line["logger"].startswith("pipeline.")]


def test_every_line_is_one_json_object_with_time_level_logger_and_message(stream: io.StringIO) -> None:
    logging.getLogger("pipeline.test").info("hello %s", "world", extra={"count": 3})
    (line,) = lines(stream)
    assert line["level"] == "INFO" and line["logger"] == "pipeline.test" and line["message"] == "hello world"
    assert line["time"].endswith("Z") and line["count"] == 3


def test_lines_inside_a_batch_scope_carry_the_batch_instance_trace_and_correlation_id(stream: io.StringIO) -> None:
    with batch_scope("eh-0-10-19", step="curate", traceparent=VALID, source_kind="eventhub"):
        logging.getLogger("pipeline.test").info("working")
        with event_scope("acme", "/shop", "o-1", traceparent=VALID):
            logging.getLogger("pipeline.test").info("one event")
    logging.getLogger("pipeline.test").info("outside")
    working, event, outside = lines(stream)
    assert working["batch_id"] == working["instance_id"] == "eh-0-10-19"
    assert working["step"] == "curate" and working["source_kind"] == "eventhub"
    assert working["trace_id"] == working["correlation_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert working["span_id"] != "00f067aa0ba902b7"  # the step's own span, a child of the batch's
    assert (event["tenant_id"], event["event_source"], event["event_id"]) == ("acme", "/shop", "o-1")
    assert len(event["event_key"]) == 64 and event["event_traceparent"] == VALID
    assert "batch_id" not in outside and "correlation_id" not in outside


def test_without_a_trace_the_correlation_id_is_the_batch_id() -> None:
    with bind(batch_id="http-abc"):
        assert correlation()["correlation_id"] == "http-abc"
    assert correlation() == {}


def test_explicit_extras_win_over_the_context_and_exceptions_are_kept(stream: io.StringIO) -> None:
    with bind(batch_id="b1"):
        try:
            raise ValueError("boom")
        except ValueError:
            logging.getLogger("pipeline.test").exception("failed", extra={"batch_id": "b2"})
    (line,) = lines(stream)
    assert line["batch_id"] == "b2"
    assert "ValueError: boom" in line["exception"]


async def test_concurrent_batches_keep_their_own_context(stream: io.StringIO) -> None:
    async def one(batch_id: str) -> None:
        with bind(batch_id=batch_id):
            for _ in range(3):
                await asyncio.sleep(0)
                logging.getLogger("pipeline.test").info("step", extra={"expected": batch_id})

    await asyncio.gather(one("a"), one("b"), one("c"))
    found = lines(stream)
    assert len(found) == 9
    assert all(line["batch_id"] == line["expected"] for line in found)


def test_configure_logging_is_idempotent_and_quiets_the_azure_sdk() -> None:
    root = logging.getLogger()
    with restored_logging():
        configure_logging("INFO", stream=io.StringIO())
        configure_logging("DEBUG", stream=io.StringIO())
        ours = [h for h in root.handlers if isinstance(h.formatter, JsonFormatter)]
        assert len(ours) == 1
        # DEBUG is for the platform's own loggers; libraries stay at INFO, the Azure SDK at WARNING.
        assert logging.getLogger("pipeline").level == logging.DEBUG and root.level == logging.INFO
        assert logging.getLogger("azure").level == logging.WARNING
        configure_logging("INFO", fmt="text", stream=io.StringIO())
        assert [type(h.formatter) for h in root.handlers if getattr(h, "_pipeline_console_handler", False)] == [
            TextFormatter
        ]


def test_without_console_only_the_filter_is_attached_to_the_handlers_in_place() -> None:
    """In Azure Functions the host's handler is already there: it gains the fields, no line is doubled."""
    root = logging.getLogger()
    host = logging.StreamHandler(io.StringIO())
    with restored_logging():
        root.handlers[:] = [host]
        assert configure_logging("INFO", console=False) is None
        assert root.handlers == [host]
        assert any(isinstance(f, CorrelationFilter) for f in host.filters)
        configure_logging("INFO", console=False)
        assert sum(isinstance(f, CorrelationFilter) for f in host.filters) == 1
        record = logging.LogRecord("x", logging.INFO, "", 0, "m", None, None)
        with bind(batch_id="b9"):
            host.filter(record)
        assert record.batch_id == "b9"  # type: ignore[attr-defined]


def test_the_text_format_appends_the_batch_and_trace() -> None:
    record = logging.LogRecord("pipeline.test", logging.INFO, "", 0, "hello", None, None)
    with bind(batch_id="b1", trace_id="t" * 32):
        text = TextFormatter().format(record)
    assert text.endswith(f"hello [batch_id=b1 trace_id={'t' * 32}]")


def test_the_function_app_configuring_after_the_cli_keeps_the_cli_level_and_handler() -> None:
    """The local runner imports function_app (console=False) after the CLI set up its log file."""
    root = logging.getLogger()
    with restored_logging():
        cli = configure_logging("DEBUG", stream=io.StringIO())
        configure_logging("INFO", console=False)
        assert logging.getLogger("pipeline").level == logging.DEBUG and cli in root.handlers
