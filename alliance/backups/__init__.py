"""Backups made by the platform: their records, the files in BACKUP_DIR and their retention."""
