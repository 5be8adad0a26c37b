from django.urls import path

from notifications.consumers import StreamConsumer

# WebSocket routes (HTTP routes are in server/urls.py).
websocket_urlpatterns: list = [
    path("ws/v1/stream", StreamConsumer.as_asgi()),
]
