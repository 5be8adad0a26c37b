# Signals and surveys were built side by side, each with its own initial migration.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("voice", "0001_signals"),
        ("voice", "0001_surveys"),
    ]

    operations = []
