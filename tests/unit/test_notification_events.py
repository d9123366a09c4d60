"""Every event the code notifies has a template, and its data fills the template."""
import ast
from pathlib import Path

from alliance.notifications.templates import (EVENTS, SANDBOX_OA_TEMPLATES,
                                              SANDBOX_SUBSCRIBE_TEMPLATES)

ROOT = Path(__file__).resolve().parents[2]


def _notified_events() -> dict[str, list[set[str]]]:
    """event -> the data keys of each ``.notify("event", ..., data={...})`` call in the code."""
    found: dict[str, list[set[str]]] = {}
    for path in (ROOT / "alliance").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "notify" and node.args
                    and isinstance(node.args[0], ast.Constant)):
                keys: set[str] = set()
                for keyword in node.keywords:
                    if keyword.arg == "data" and isinstance(keyword.value, ast.Dict):
                        keys = {k.value for k in keyword.value.keys if isinstance(k, ast.Constant)}
                        keys.add("*literal*")
                found.setdefault(node.args[0].value, []).append(keys)
    return found


def test_every_notified_event_has_templates_in_both_channels():
    for event in _notified_events():
        assert event in EVENTS, f"{event} is notified but has no required-field entry"
        assert event in SANDBOX_SUBSCRIBE_TEMPLATES and event in SANDBOX_OA_TEMPLATES, event


def test_literal_notification_data_carries_every_required_field():
    for event, calls in _notified_events().items():
        for keys in calls:
            if "*literal*" in keys:
                missing = set(EVENTS[event]) - keys
                assert not missing, f"{event} is notified without {sorted(missing)}"
