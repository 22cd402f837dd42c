"""The Slack client's one TLS context: shared, as strict as the default, and the one Bolt's
``respond`` posts answers with."""

from __future__ import annotations

import ssl

from slack_bolt.context import BoltContext

from bot.slack.client import make_client, tls_context


def test_every_client_shares_one_context() -> None:
    first = make_client("xoxb-1")  # Slack's own https://slack.com/api/
    second = make_client("xoxb-2", "https://slack.example/api", retry_connection_errors=False)
    assert isinstance(first.ssl, ssl.SSLContext)
    assert first.ssl is second.ssl is tls_context()


def test_a_plain_http_slack_gets_no_context() -> None:
    # a fake Slack on 127.0.0.1: a context would only cost urllib an opener per call
    assert make_client("xoxb-1", "http://127.0.0.1:1/api/").ssl is None


def test_the_context_verifies_as_the_default_does() -> None:
    context = tls_context()
    default = ssl.create_default_context()
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    assert context.minimum_version == default.minimum_version
    assert context.options == default.options
    # the same trust: the default CA certificates, as a fresh default context loads them
    assert context.cert_store_stats() == default.cert_store_stats()


def test_bolt_answers_through_response_url_with_the_clients_context() -> None:
    # Bolt builds ``respond`` from the app's client: the answers to /news use the shared
    # context, not a new one (and a CA bundle loaded again) per answer.
    client = make_client("xoxb-1")
    ctx = BoltContext(client=client, response_url="https://hooks.slack.com/commands/T1/1/x")
    assert ctx.respond.ssl is tls_context()
