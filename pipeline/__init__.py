"""The platform's domain: one module per stage, ingest → validate → enrich → store → aggregate.

Pure code over small store seams (`pipeline.stores`); the Functions bindings live in `orchestrations/`.
"""
