"""Explicit Django signals by which voice lets higher apps react (DESIGN.md): moderation connects in its apps.py."""

from django.dispatch import Signal

# organization_id, signal_id, text, previous_text (None when new): a signal's words were
# published or changed, after the commit. Moderation's keyword filter queues it, as it does posts.
signal_text_published = Signal()
