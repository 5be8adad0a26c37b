from moderation.audit import AuditEntry  # noqa: F401
