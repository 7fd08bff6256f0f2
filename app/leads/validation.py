"""Which keys of a completion payload are form fields.

The fields themselves are judged by the flow's `SubmissionValidator`
(app/flowjson/submission.py), built once when the flow is loaded.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Keys that belong to the transport, never to the form: the flow token (ours or the
# business's) and Meta's optional 4.0 signature of it (docs/protocol.md §4.1, §9.1).
NON_FIELD_KEYS = frozenset({"flow_token", "flow_token_signature"})


def split_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    """The form fields of a completion payload: everything but the non-field keys."""
    return {k: v for k, v in data.items() if k not in NON_FIELD_KEYS}
