"""One error taxonomy for the whole pipeline.

A *transient* error (a store that times out, throttles or is briefly unreachable) is retried: by the
orchestration's `RetryOptions` inside an activity, by the store clients' own policies below that.
A *terminal* problem with one event is never raised: the event is dead-lettered with a stable reason
code (see `schemas.Reason`). Anything else is a bug or an outage that exhausted its retries, and ends
as `processing_failed` for the events it touched.
"""

from __future__ import annotations


class TransientError(RuntimeError):
    """A failure that is expected to pass: retry the operation."""


class StoreUnavailableError(TransientError):
    """A store could not be reached at all; the message names it and its endpoint."""
