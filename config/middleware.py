"""Project-wide request policies: who the client is, rate limits on the listener's writes,
a short idle timeout for staff sessions, and (for benchmarks) a request's own timing."""

import time

from django.conf import settings
from django.db import connection
from django.http import HttpResponse
from django.urls import resolve
from django.urls.exceptions import Resolver404
from django.utils.translation import gettext
from django_ratelimit.core import is_ratelimited


def client_ip(request) -> str:
    """The client's address: the header named by CLIENT_IP_HEADER (e.g. X-Real-IP, which
    your reverse proxy must set, overwriting what the client sent), else REMOTE_ADDR.
    Used by the listener rate limits and the admin login lockout (django-axes)."""
    header = settings.EARSHOT_CLIENT_IP_HEADER
    if header:
        value = request.META.get("HTTP_" + header.upper().replace("-", "_"), "")
        if value:
            # A proxy chain appends: the first entry is the client the outermost proxy saw.
            return value.split(",")[0].strip()
    return request.META.get("REMOTE_ADDR", "")


class ServerTimingMiddleware:
    """With ``EARSHOT_SERVER_TIMING`` on (off by default; benchmarks/load.py turns it on),
    every response carries what the request cost this process, as a ``Server-Timing``
    header: ``app`` (wall ms from here to the response), ``cpu`` (ms of CPU this thread
    used: the work itself, without waiting for the GIL, a core or the database) and ``db``
    (wall ms inside database calls, ``desc`` the number of queries). Wall time beyond
    cpu + db is waiting: for a core (other threads, other processes) or for a lock."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.enabled = settings.EARSHOT_SERVER_TIMING

    def __call__(self, request):
        if not self.enabled:
            return self.get_response(request)
        database = {"ms": 0.0, "queries": 0}

        def timed_query(execute, sql, params, many, context):
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                database["ms"] += 1000 * (time.perf_counter() - started)
                database["queries"] += 1

        wall, cpu = time.perf_counter(), time.thread_time()
        with connection.execute_wrapper(timed_query):
            response = self.get_response(request)
        response["Server-Timing"] = (
            f"app;dur={1000 * (time.perf_counter() - wall):.1f}, "
            f"cpu;dur={1000 * (time.thread_time() - cpu):.1f}, "
            f'db;dur={database["ms"]:.1f};desc="{database["queries"]}"'
        )
        return response


class HealthzMiddleware:
    """Answers ``GET /healthz`` before any other middleware: load balancers probe by address
    over plain HTTP, so the host check (ALLOWED_HOSTS) and the HTTPS redirect must not turn
    the probe away. The answer names checks only, never a secret (evaluation.views.health)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == "/healthz":
            from evaluation.views.health import healthz

            return healthz(request)
        return self.get_response(request)


def _client_key(group, request) -> str:
    return client_ip(request)


class ListenerRateLimitMiddleware:
    """Per-client rate limits (django-ratelimit, counters in the default cache) on the
    listener's POSTs: joining a study, headphone-check answers and trial answers.

    ``settings.EARSHOT_RATE_LIMITS`` maps the URL name (``listener:answer``) to a rate such
    as ``"120/m"``; over the limit the request is refused with 429 and ``Retry-After`` before
    any view runs. Local memory by default (per process); Redis in production (CACHE_URL),
    so every web process counts together."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "POST":
            try:
                match = resolve(request.path_info)
            except Resolver404:
                match = None
            rate = match and settings.EARSHOT_RATE_LIMITS.get(match.view_name)
            if rate and is_ratelimited(
                request, group=match.view_name, key=_client_key, rate=rate, increment=True
            ):
                response = HttpResponse(
                    gettext("Too many requests from your address. Wait a minute, then try again."),
                    status=429,
                    content_type="text/plain; charset=utf-8",
                )
                response["Retry-After"] = "60"
                return response
        return self.get_response(request)


class AccountSessionIdleTimeoutMiddleware:
    """Sessions of logged-in accounts (admins, researchers) end after
    ``EARSHOT_ACCOUNT_SESSION_IDLE_S`` seconds without a request, while panelists (who never
    log in) keep SESSION_COOKIE_AGE: weeks, so a listener can come back to an unfinished
    test. Each account request slides the expiry forward."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            request.session.set_expiry(settings.EARSHOT_ACCOUNT_SESSION_IDLE_S)
        return self.get_response(request)
