"""Stock: marketplace snapshots (fetched, stored, judged) and the ledger they keep equal."""
