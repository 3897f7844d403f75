"""The seams through which the pipeline reaches I/O: a Blob store and a document (Cosmos DB) store.

Each has a real Azure implementation and an in-memory one with the same behaviour, so the domain
modules are tested against both.
"""

from pipeline.stores.base import BlobStore, DocumentStore, PreconditionFailed

__all__ = ["BlobStore", "DocumentStore", "PreconditionFailed"]
