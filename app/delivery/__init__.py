"""Outgoing webhooks: the outbox, Standard Webhooks signing, the SSRF guard and the worker.

Module map: `outbox` (events and delivery rows, written in the caller's transaction),
`endpoints` (managing customer endpoints and their secrets), `signing` (Standard Webhooks
headers), `ssrf` (URL vetting and the pinned-address transport), `transport` (one HTTP attempt
with deadlines and caps), `schedule` (retry delays and backoff), `claims` (leases on delivery
rows), `outcomes` (recording an attempt's result), `worker` (the loop `flowgate worker` runs).
"""
