"""Events: what changed that someone must act on or know of, written with the change
(transactional outbox), read by each recipient as a feed or pushed to its signed webhooks."""
