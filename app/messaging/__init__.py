"""Sending WhatsApp messages through the Cloud API, with the 24-hour window enforced.

`graph.py` is the HTTP client (httpx) and its typed errors, `payloads.py` the exact request
bodies (docs/protocol.md §10), `sending.py` the rules (`send_message`). No Flask here: the
admin API's `POST /api/v1/messages` (app/web/api/messages.py) is a thin shell over it.
Decisions are in docs/messaging.md.
"""
