"""Leads: submission intake (both paths), validation, Meta notifications, contacts, window."""
