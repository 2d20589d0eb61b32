"""What the domains' assets share. Each domain's own assets live in ``defs/<domain>/``."""
