"""Background work: the upload sweep, idempotency expiry and the retention purge."""
