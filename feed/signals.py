"""Explicit signals by which the feed lets higher apps react (DESIGN.md); feed imports none of them.

content_published: organization_id, author_id, post_id, comment_id (None for a post),
body, and previous_body when a published post's text was edited. Sent after commit when a
post becomes visible, a comment is written or a published post's text changes (moderation
flags keywords with it).
"""

from django.dispatch import Signal

content_published = Signal()
