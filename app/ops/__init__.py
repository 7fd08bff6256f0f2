"""Operations: Prometheus metrics and the flow health check (docs/operations.md).

Plain Python without Flask: `metrics` defines what is counted, `exposition` renders a scrape,
`rollup` keeps the per-minute endpoint figures every process writes to the database, `health`
judges them by Meta's alert thresholds, `alerts` reads Meta's own `flows` alerts and
`transitions` raises `flow.health_changed` when a flow's status changes.
"""
