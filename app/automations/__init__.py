"""Automations inside the 24-hour window (docs/automations.md).

`rules` reads and checks the rules file; `triggers` writes what happened (in the caller's
transaction); `evaluate` turns a trigger into intended sends; `sends` and `runner` send them
from the worker, exactly once as far as Meta's API allows; `links` makes wa.me links and QR
codes; `attribution` keeps where a contact came from.
"""
