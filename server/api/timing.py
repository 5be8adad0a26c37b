"""`Server-Timing: app;dur=<ms>` on every response: server time seen from outside.

Phones' developer tools and our benchmarks read it; it costs two clock reads.
"""

import time


class ServerTimingMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        response["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.2f}"
        return response
