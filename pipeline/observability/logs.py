"""Structured logs: one JSON object per line, with the correlation context on every line.

:class:`CorrelationFilter` copies the current correlation fields onto each record (as plain
attributes, so the OpenTelemetry log handler exports them as Application Insights
`customDimensions` under the same names); :class:`JsonFormatter` writes a record as one JSON
line. :func:`configure_logging` installs both.

In Azure the Functions host already captures the worker's logging and its stdout: there,
call ``configure_logging(console=False)``, which only attaches the filter to the handlers in
place (and sets the level), so nothing is written twice.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

from pipeline.observability.context import CONTEXT_FIELDS, correlation

#: Attributes every `LogRecord` has; anything else on a record came from `extra=` or the filter.
_RECORD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("", logging.INFO, "", 0, "", None, None)).keys() | {"message", "asctime", "taskName"}
)
_HANDLER_MARK = "_pipeline_console_handler"
#: Chatty libraries (the Azure SDK logs every HTTP request at INFO) kept at WARNING or above.
QUIET_LOGGERS: tuple[str, ...] = ("azure", "urllib3", "aiohttp.access", "opentelemetry")
#: The platform's own loggers: only they go down to DEBUG (libraries stay at INFO or above).
APP_LOGGERS: tuple[str, ...] = ("pipeline", "orchestrations", "schemas")


class CorrelationFilter(logging.Filter):
    """Adds the correlation fields to every record that passes (never drops a record).

    Values given explicitly with ``extra=`` win over the context.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in correlation().items():
            if not hasattr(record, name):
                setattr(record, name, value)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, correlation, then extras."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        context = correlation()
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None) or context.get(name)
            if value:
                payload[name] = value
        for name, value in vars(record).items():
            if name not in _RECORD_ATTRIBUTES and name not in payload and not name.startswith("_"):
                payload[name] = value
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            payload["stack"] = self.formatStack(record.stack_info)
        return json.dumps(payload, ensure_ascii=False, default=str, separators=(",", ":"))


class TextFormatter(logging.Formatter):
    """A human-readable line with the batch and trace appended in brackets."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        context = correlation()
        tags = [
            f"{name}={getattr(record, name, None) or context[name]}"
            for name in ("batch_id", "event_id", "trace_id")
            if getattr(record, name, None) or context.get(name)
        ]
        return f"{line} [{' '.join(tags)}]" if tags else line


def configure_logging(
    level: str | int = "INFO",
    *,
    fmt: Literal["json", "text"] = "json",
    console: bool = True,
    stream: TextIO | None = None,
) -> logging.Handler | None:
    """Set up the process's logging; idempotent (a second call replaces the first).

    Args:
        level: Level of the root logger (names such as ``"INFO"`` or numbers).
        fmt: ``"json"`` (one JSON object a line) or ``"text"`` for people at a terminal.
        console: Add a handler writing to `stream` (default stderr). False in Azure Functions,
            whose host captures the worker's logs already: then only the correlation filter is
            attached, and the level is left alone when a console handler exists (the CLI set it).
        stream: Where the console handler writes.

    Returns:
        The console handler, or None when `console` is False.
    """
    root = logging.getLogger()
    ours = [handler for handler in root.handlers if getattr(handler, _HANDLER_MARK, False)]
    if not console:
        attach_correlation(root)
        if not ours:  # a process whose console logging is already set up (the CLI) keeps its level
            _set_level(root, level)
        return None
    for handler in ours:
        root.removeHandler(handler)
    _set_level(root, level)
    attach_correlation(root)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(CorrelationFilter())
    setattr(handler, _HANDLER_MARK, True)
    root.addHandler(handler)
    return handler


def _set_level(root: logging.Logger, level: str | int) -> None:
    number = level if isinstance(level, int) else logging.getLevelName(level.upper())
    if not isinstance(number, int):
        raise ValueError(f"unknown log level {level!r}")
    root.setLevel(max(number, logging.INFO))
    for name in APP_LOGGERS:
        logging.getLogger(name).setLevel(number)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(number, logging.WARNING))


def attach_correlation(logger: logging.Logger | None = None) -> None:
    """Attach a :class:`CorrelationFilter` to every handler of `logger` (default: root) once.

    Call it again after another library adds handlers (the OpenTelemetry exporter does).
    """
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, CorrelationFilter) for f in handler.filters):
            handler.addFilter(CorrelationFilter())
