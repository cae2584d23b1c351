"""Outbound notifications: signed webhooks and e-mail, driven from the log by position."""
