"""Feed the pipeline: `python -m pipeline generate` writes synthetic streams, `send` publishes them.

`generate` shapes :func:`pipeline.synthetic.generate_labelled` into a stream: a choice of event
types and tenants, event times spaced at a rate (with optional lateness), bad-event and duplicate
ratios; it writes NDJSON and says what the pipeline should make of it.

`send` publishes a file or a generated stream to an Event Hub (`azure-eventhub`, with
`DefaultAzureCredential`) in size-bounded batches per route: by default events are routed by
identity to a partition (every copy of an event lands in one partition, in order), or by tenant
as partition key. The publishing logic (:class:`Sender`) talks to an :class:`EventSink`; the
tests use a fake sink that enforces a batch size and injects failures.
"""

from pipeline.producer.commands import add_generate_parser, add_send_parser, run_generate, run_send
from pipeline.producer.sender import EventHubSink, EventSink, Route, Sender, SendSummary, SinkError, _SdkBatch
from pipeline.producer.stream import StreamSpec, expected_outcome, generate_stream, resolve_types, retime

__all__ = [
    "EventHubSink",
    "EventSink",
    "Route",
    "SendSummary",
    "Sender",
    "SinkError",
    "StreamSpec",
    "_SdkBatch",
    "add_generate_parser",
    "add_send_parser",
    "expected_outcome",
    "generate_stream",
    "resolve_types",
    "retime",
    "run_generate",
    "run_send",
]
