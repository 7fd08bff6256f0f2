"""deploy/: the Prometheus rules parse with a real PromQL parser and name exported metrics only.

The parser is promql-parser (Python bindings of the Rust PromQL parser used by GreptimeDB);
when Prometheus's own `promtool` is on PATH it checks the file too.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import promql_parser
import pytest
import yaml
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import ROOT

RULES = ROOT / "deploy" / "prometheus-rules.yml"
DASHBOARD = ROOT / "deploy" / "grafana-dashboard.json"
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}


def exported(client: FlaskClient) -> set[str]:
    """Every sample name GET /metrics can show (families are listed even before a sample)."""
    answer = client.get("/metrics")
    assert answer.status_code == 200
    names = set()
    for family in text_string_to_metric_families(answer.get_data(as_text=True)):
        for suffix in SUFFIXES.get(family.type, ("",)):
            names.add(family.name + suffix)
    return names


def selectors(expr: str) -> set[str]:
    names: set[str] = set()

    def visit(node: object) -> bool:
        if isinstance(node, promql_parser.VectorSelector) and node.name:
            names.add(node.name)
        return True

    promql_parser.walk(promql_parser.parse(expr), visit)
    return names


def rules() -> list[dict]:
    document = yaml.safe_load(RULES.read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def test_every_rule_parses_and_names_an_exported_metric(client: FlaskClient) -> None:
    names = exported(client)
    recorded = {rule["record"] for rule in rules() if "record" in rule}
    alerts = [rule for rule in rules() if "alert" in rule]
    assert {a["alert"] for a in alerts} >= {
        "FlowgateEndpointLatencyWarning",
        "FlowgateEndpointErrorRateCritical",
        "FlowgateEndpointAvailabilityCritical",
    }
    for rule in rules():
        used = selectors(rule["expr"])
        assert used, rule
        unknown = used - names - recorded
        assert not unknown, (rule.get("alert") or rule.get("record"), unknown)


def test_thresholds_are_metas() -> None:
    by_name = {rule.get("alert"): rule["expr"] for rule in rules()}
    assert by_name["FlowgateEndpointLatencyWarning"].strip().endswith("> 1")
    assert by_name["FlowgateEndpointLatencyCritical"].strip().endswith("> 7")
    assert by_name["FlowgateEndpointErrorRateWarning"].strip().endswith("> 0.05")
    assert by_name["FlowgateEndpointErrorRateCritical"].strip().endswith("> 0.5")
    assert by_name["FlowgateEndpointAvailabilityCritical"].strip().endswith("< 0.9")
    assert "[30m]" in by_name["FlowgateEndpointErrorRateWarning"]
    assert "[10m]" in by_name["FlowgateEndpointAvailabilityCritical"]


def test_dashboard_queries_parse_and_name_exported_metrics(client: FlaskClient) -> None:
    names = exported(client)
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    assert exprs
    for expr in exprs:
        assert not selectors(expr) - names, expr


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed")
def test_promtool_accepts_the_rules() -> None:
    result = subprocess.run(["promtool", "check", "rules", str(RULES)], capture_output=True)
    assert result.returncode == 0, result.stdout + result.stderr
