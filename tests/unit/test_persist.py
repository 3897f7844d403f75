from datetime import UTC, datetime

from pipeline.persist import BatchEvent, store_batch
from pipeline.reference import ReferenceData
from pipeline.runtime import COSMOS_CONTAINERS
from pipeline.stores.memory import MemoryDocumentStore
from schemas import ValidEvent, validate_event
from tests import factories as f

NOW = datetime(2026, 11, 2, tzinfo=UTC)
REFERENCE = ReferenceData.parse(*f.reference_files())


def batch(*events: dict) -> list[BatchEvent]:
    items = []
    for index, event in enumerate(events):
        body = f.raw(event)
        valid = validate_event(body, now=NOW)
        assert isinstance(valid, ValidEvent), valid
        items.append(BatchEvent(index, f"test#{index}", "2026-11-02T00:00:00.000Z", valid, body))
    return items


async def documents() -> MemoryDocumentStore:
    store = MemoryDocumentStore()
    await store.ensure_containers(COSMOS_CONTAINERS)
    return store


async def store(docs, batch_id, events, completed=False):
    return await store_batch(
        batch_id,
        "eventhub",
        events,
        reference=REFERENCE,
        documents=docs,
        window_minutes=1,
        processed_at="2026-11-02T00:00:01.000Z",
        batch_completed=completed,
    )


def summary(outcome):
    return len(outcome.stored_documents), outcome.duplicates, dict(outcome.dead_letter_reasons)


async def test_copies_in_one_batch_store_once_and_conflicts_are_dead_lettered():
    docs = await documents()
    outcome = await store(
        docs,
        "b1",
        batch(
            f.order("1"),
            f.order("1"),
            f.order("1", total="26.00", items=[{"sku": "A", "quantity": 2, "unit_price": "13.00"}]),
            f.page("2"),
        ),
    )
    assert summary(outcome) == (2, 1, {"conflicting_duplicate": 1})
    assert [d.index for d in outcome.dead_letters] == [2]


async def test_redelivery_in_a_later_batch_is_a_duplicate_and_the_first_version_stays():
    docs = await documents()
    await store(docs, "b1", batch(f.order("1")))
    outcome = await store(docs, "b2", batch(f.order("1", total="25.0"), f.order("1", currency="USD")))
    assert summary(outcome) == (0, 1, {"conflicting_duplicate": 1})
    (stored,) = await docs.query_all("events")
    assert stored["data"]["currency"] == "EUR" and stored["batch_id"] == "b1"


async def test_a_retried_step_classifies_exactly_as_the_first_attempt():
    docs = await documents()
    events = batch(f.order("1", currency="CHF"), f.order("1"), f.order("1"), f.page("2"), f.page("2", duration_ms=1))
    first = await store(docs, "b1", events)
    again = await store(docs, "b1", events)
    assert summary(first) == summary(again) == (2, 1, {"unknown_currency": 1, "conflicting_duplicate": 1})


async def test_a_completed_batch_delivered_again_finds_only_duplicates():
    docs = await documents()
    events = batch(f.order("1"), f.page("2"))
    await store(docs, "b1", events)
    assert summary(await store(docs, "b1", events, completed=True)) == (0, 2, {})


async def test_conflict_is_named_before_an_enrichment_failure():
    docs = await documents()
    await store(docs, "b1", batch(f.order("1")))
    outcome = await store(docs, "b2", batch(f.order("1", currency="CHF"), f.order("9", currency="CHF")))
    assert dict(outcome.dead_letter_reasons) == {"conflicting_duplicate": 1, "unknown_currency": 1}


async def test_an_event_rejected_at_enrichment_is_not_accepted_so_a_later_version_can_be():
    docs = await documents()
    outcome = await store(docs, "b1", batch(f.order("1", tenant="nobody-here"), f.order("1", tenant="nobody-here")))
    assert summary(outcome) == (0, 0, {"unknown_tenant": 2})
    assert await docs.query_all("events") == []
