"""A write the web app refuses: each resource router turns its service's error into an ActionError with the
service's Chinese message, so pages show it as is and the API returns it as 422 detail."""

from __future__ import annotations


class ActionError(ValueError):
    """A refused write; the message is Chinese and says what to do."""
