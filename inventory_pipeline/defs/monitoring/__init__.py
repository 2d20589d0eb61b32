"""Monitoring: stock events, anomalies, ledger freshness, failure alerts and the weekly report."""
