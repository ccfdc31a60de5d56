"""Webhooks: an organisation's subscriptions to its events, pushed signed to its own system
(Standard Webhooks), delivered by app.events.delivery."""
