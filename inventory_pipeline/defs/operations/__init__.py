"""Operations: the health check, backups and history retention."""
