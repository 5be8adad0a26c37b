from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

from search.sql import postgresql_only


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_verbose_names")]

    operations = [
        # pg_trgm (a trusted extension: no superuser needed on PostgreSQL 13+); a no-op elsewhere.
        TrigramExtension(),
        # People are found by name with trigrams ("Eline" finds "Elin"): search.sql.trigram_match.
        postgresql_only(
            "CREATE INDEX user_name_trgm_idx ON accounts_user USING gin (name gin_trgm_ops);",
            "DROP INDEX IF EXISTS user_name_trgm_idx;",
        ),
    ]
