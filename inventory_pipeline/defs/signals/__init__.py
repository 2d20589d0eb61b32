"""Change signals and the fast path: Ozon pushes and polled Wildberries orders name the SKUs that
changed; small runs re-read only those, apply them to the ledger and push them to Wix."""
