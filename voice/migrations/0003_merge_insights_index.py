# The signals' insights index was added beside the merge of signals and surveys.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("voice", "0002_merge_signals_surveys"),
        ("voice", "0002_signal_insights_index"),
    ]

    operations = []
