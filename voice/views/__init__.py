"""Voice's views, one module per use case (signals, surveys)."""
