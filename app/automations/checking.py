"""The rules file at start-up and in `flowgate flows validate` (findings like a flow's)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from app.automations.rules import RuleSet, load_rules
from app.flowjson.findings import Finding
from app.flowjson.registry import AUTOMATIONS_FILE_NAME, FlowRegistry

log = logging.getLogger("flowgate.automations")


def is_automations_file(path: Path, configured: Path) -> bool:
    """The configured rules file, or any file named automations.json."""
    try:
        same = path.resolve() == configured.resolve()
    except OSError:
        same = False
    return same or path.name == AUTOMATIONS_FILE_NAME


def automations_findings(path: Path, config: Any) -> list[Finding]:
    """Every finding of the rules file at `path`, flows checked against the flows folder."""
    registry = FlowRegistry.load(config.flows_dir, config.schemas_dir)
    return list(load_rules(path, registry, config.window_warning_seconds).findings)


def check_at_startup(config: Any, registry: Any) -> RuleSet:
    """Load the rules and log their findings (rules with errors are not run)."""
    rules = load_rules(config.automations_file, registry, config.window_warning_seconds)
    for finding in rules.findings:
        level = logging.WARNING if finding.is_error else logging.INFO
        log.log(level, "automations: %s", finding.format())
    if rules.rules or rules.findings:
        log.info("automations: %d rule(s) will run from %s", len(rules.rules), rules.path)
    return rules
