"""Thin views of the feed: access check first (404), then input, then one service or selector.

One module per use case; feed/urls.py routes to them.
"""
