"""The read side: search (similar, arithmetic, infer), filters, attribute words, browsing, the
in-memory snapshot `catalog serve` answers from, and the database's models loaded at query time.
It never imports the write side (`ingest/`)."""
