"""Marshmallow schemas of the admin API, one module per area."""
