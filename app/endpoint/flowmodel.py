"""Moved to app/flowjson/model.py; this alias stays only until app/messaging/prepare.py imports it
from there (its owner is still working in app/messaging/)."""

from app.flowjson.model import FlowModel, Screen, ScreenAction, model_for

__all__ = ["FlowModel", "Screen", "ScreenAction", "model_for"]
