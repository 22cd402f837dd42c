"""newsbot: a Slack chat-ops bot that delivers news digests."""

__version__ = "0.1.0"
