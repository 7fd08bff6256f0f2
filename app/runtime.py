"""The long-lived objects one Flowgate process shares: settings, database, keys, flows.

Built once at startup by `create_app` (or by the worker and CLI without Flask), so the
expensive parts (private key parsing, flow validation) never happen per request.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric import rsa

from app.config import Config
from app.db import Database
from app.flowjson.registry import FlowRegistry


@dataclass
class Runtime:
    """Everything a request handler or job needs besides its own input."""

    config: Config
    db: Database
    private_keys: list[rsa.RSAPrivateKey] = field(default_factory=list)
    registry: FlowRegistry = field(default_factory=lambda: FlowRegistry({}))

    @classmethod
    def build(cls, config: Config) -> Runtime:
        """Check secrets, open the database, load keys and flows (failing closed)."""
        from app.settings_check import require

        keys = require(config)  # every missing or unreadable setting at once, keys parsed once
        runtime = cls(config=config, db=Database.from_config(config))
        runtime.private_keys = keys
        runtime.reload_flows()
        return runtime

    def reload_flows(self) -> None:
        """(Re)load flows/ and schemas/; invalid flows are kept, logged and not served."""
        self.registry = FlowRegistry.load(self.config.flows_dir, self.config.schemas_dir)
