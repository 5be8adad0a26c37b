"""Voice's models, one module per use case (signals, surveys); re-exported here for Django."""
