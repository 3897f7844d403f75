"""The registered event types: one module per family, holding its wire and stored shapes."""
