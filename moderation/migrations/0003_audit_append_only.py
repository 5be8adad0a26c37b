"""On PostgreSQL the database itself refuses UPDATE and DELETE on the audit log.

Only a transaction that ran `set_config('feedapp.audit_redaction', 'on', true)` (erasure
redacting a person's name, moderation.privacy) may UPDATE; nobody may DELETE. SQLite
(development, tests) relies on the model's refusal alone.
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION moderation_auditentry_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND current_setting('feedapp.audit_redaction', true) = 'on' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'moderation_auditentry is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER moderation_auditentry_append_only
    BEFORE UPDATE OR DELETE ON moderation_auditentry
    FOR EACH ROW EXECUTE FUNCTION moderation_auditentry_append_only();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS moderation_auditentry_append_only ON moderation_auditentry;
DROP FUNCTION IF EXISTS moderation_auditentry_append_only();
"""


def _on_postgres(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("moderation", "0002_audit_entry"),
    ]

    operations = [
        migrations.RunPython(_on_postgres(FORWARD), _on_postgres(BACKWARD), elidable=False),
    ]
