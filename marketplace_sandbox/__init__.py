"""A real HTTP server that behaves like Ozon, Wildberries, Wix and Haier (see README)."""

from marketplace_sandbox.app import create_app
from marketplace_sandbox.server import SandboxServer

__all__ = ["SandboxServer", "create_app"]
