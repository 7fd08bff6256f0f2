"""Public pages a finding cites when its level rests on them (docs/flow-validation.md,
"Severity"). A WARNING names the page that documents the limit or format but not a rejection."""

from __future__ import annotations

M_COMP = "https://developers.facebook.com/docs/whatsapp/flows/reference/components"
M_FJ = "https://developers.facebook.com/docs/whatsapp/flows/reference/flowjson"
M_ERR = "https://developers.facebook.com/docs/whatsapp/flows/reference/error-codes"
M_CL = "https://developers.facebook.com/docs/whatsapp/flows/changelogs"
PYWA = "https://github.com/david-lev/pywa"
