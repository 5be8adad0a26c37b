"""What an operator sees: request ids in every log line, JSON logs, Prometheus metrics, traces.

The lowest layer of the project (pyproject.toml): every app may report through it, it imports no app.
docs/operations.md "Observability" is the operator's side of it.
"""
