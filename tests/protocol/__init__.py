"""The live protocol's client rules as shared data: `cases.json` beside this file is run against
every implementation of them (the Python client, the agent app, the widget)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CASES_PATH = Path(__file__).with_name("cases.json")


def load_cases() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The event template and the cases."""
    document = json.loads(CASES_PATH.read_text(encoding="utf-8"))
    return document["event_template"], document["cases"]


def case_ids(cases: list[dict[str, Any]]) -> list[str]:
    return [case["name"] for case in cases]
