"""When milestones are due: working days from the notification, bank holidays, the lead's moves."""
