"""Talking to Slack's Web API (slack_sdk), shared by listeners and the digest job."""
