"""Voice's reads, one module per use case (signals, surveys)."""
