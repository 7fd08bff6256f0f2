"""Meta's Flows API from the command line: push, publish, status, preview, key upload.

`api.py` is the Graph API client (request shapes cited from Meta's docs there), `store.py`
keeps Meta's flow ids in the database, `remote.py` maps Meta's validation errors back to
findings, `push.py` is the push procedure. No Flask here (docs/flows.md).
"""
