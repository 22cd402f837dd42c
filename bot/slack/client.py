"""The one place a slack_sdk ``WebClient`` is made: base URL, timeout and retry handlers."""

from __future__ import annotations

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
    return WebClient(
        token=token, base_url=api_url(base_url), timeout=timeout, retry_handlers=handlers
    )
