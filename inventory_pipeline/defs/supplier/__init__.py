"""Supplier: Haier's catalogue, prices, stock per county and images."""
