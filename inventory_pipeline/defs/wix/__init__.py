"""Wix: the ledger's stock planned, pushed to the Wix store, verified, and undone on request."""
