"""Test helpers: servers the suite starts, views of the ledger and the sandbox, the pipeline under test."""
