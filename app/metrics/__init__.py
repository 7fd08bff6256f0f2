"""Prometheus metrics the core records (docs/operations.md).

Low in the layers so that intake, delivery and the webhook receiver can count what they do;
exposing and judging the figures (GET /metrics, flow health) is app/ops, higher up.
"""
