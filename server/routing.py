# WebSocket routes; the realtime consumer registers /ws/v1/stream here.
websocket_urlpatterns: list = []
