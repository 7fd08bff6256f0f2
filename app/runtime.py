"""The long-lived objects one Flowgate process shares: settings, database, keys, flows.

Built once at startup by `create_app` (or by the worker and CLI without Flask), so the
expensive parts (private key parsing, flow validation) never happen per request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.asymmetric import rsa

from app.config import Config
from app.crypto.keys import load_private_keys
from app.db import Database

if TYPE_CHECKING:
    from app.flowjson.registry import FlowRegistry


@dataclass
class Runtime:
    """Everything a request handler or job needs besides its own input."""

    config: Config
    db: Database
    private_keys: list[rsa.RSAPrivateKey] = field(default_factory=list)
    registry: FlowRegistry | None = None

    @classmethod
    def build(cls, config: Config) -> Runtime:
        """Check secrets, open the database, load keys and flows (failing closed)."""
        config.check_serving()
        runtime = cls(config=config, db=Database(config.database_url))
        runtime.private_keys = load_private_keys(
            config.private_key_files, config.private_key_passphrase
        )
        runtime.reload_flows()
        return runtime

    def reload_flows(self) -> None:
        """(Re)load flows/ and schemas/; invalid flows are kept, logged and not served."""
        from app.flowjson.registry import FlowRegistry

        self.registry = FlowRegistry.load(self.config.flows_dir, self.config.schemas_dir)
        from app.automations.checking import check_at_startup

        check_at_startup(self.config, self.registry)  # the rules file, checked like a flow
