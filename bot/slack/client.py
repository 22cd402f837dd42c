"""The one place a slack_sdk ``WebClient`` is made: base URL, timeout, retry handlers and the
one TLS context every Slack call of the process shares."""

from __future__ import annotations

import functools
import ssl

from slack_sdk import WebClient
from slack_sdk.http_retry import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    RetryHandler,
)
from slack_sdk.http_retry.builtin_handlers import ServerErrorRetryHandler

SLACK_API_URL = "https://slack.com/api/"


def api_url(configured: str | None) -> str:
    url = configured or SLACK_API_URL
    return url if url.endswith("/") else url + "/"


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The TLS context of every Slack call: the Web API's and, as Bolt hands the app's client's
    context to ``respond``, every answer through a response_url.

    Without one, slack_sdk leaves it to ``http.client``, which makes a new default context for
    each connection, and each loads the system's CA bundle again: ~40 ms of CPU with OpenSSL 3
    (``python bench/slash.py --tls 50``), more than a whole search, on every /news answer. This
    is the context ``http.client`` would make (the same verification: certificates required,
    host names checked, the default CA certificates), made once: a context is safe to share
    between threads once made. A CA bundle changed on disk is read at the next start.

    A Slack on plain HTTP (a fake one: tests, benches) is given none: there a context only
    costs urllib a new opener per call (~0.5 ms of CPU, as ``urlopen`` caches only its
    default one)."""
    context = ssl.create_default_context()
    context.set_alpn_protocols(["http/1.1"])  # as http.client sets on its own contexts
    if context.post_handshake_auth is not None:
        context.post_handshake_auth = True
    return context


def make_client(
    token: str | None,
    base_url: str | None = None,
    *,
    retry_connection_errors: bool = True,
    timeout: int = 10,
) -> WebClient:
    """A WebClient that waits out 429s (Retry-After) and retries 5xx with backoff.

    ``retry_connection_errors=False`` is for non-idempotent posts whose caller checks what
    Slack already stored before trying again (the digest job): a dropped connection after
    Slack accepted a message must not become a second message.
    """
    handlers: list[RetryHandler] = [
        RateLimitErrorRetryHandler(max_retry_count=3),
        ServerErrorRetryHandler(max_retry_count=2),
    ]
    if retry_connection_errors:
        handlers.append(ConnectionErrorRetryHandler(max_retry_count=2))
    url = api_url(base_url)
    return WebClient(
        token=token,
        base_url=url,
        timeout=timeout,
        retry_handlers=handlers,
        ssl=tls_context() if url.startswith("https:") else None,
    )
