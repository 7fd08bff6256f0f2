"""Processing of Meta's webhook notifications (docs/protocol.md §9, §10).

`process.process_notification` walks every entry and change of one notification:
`messages` changes go to `messages.py` (contacts, nfm_reply submissions routed by
`routing.py`) and `statuses.py`; `flows` changes to `alerts.py`. `reader.py` holds the
tolerant accessors they share. Nothing here commits: `app.leads.inbox` owns transactions.
"""
