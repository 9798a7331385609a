"""A health reading crosses a process boundary as JSON (`records.doctor.health_worker`): it comes
back equal; the loss metrics above zero are what the badge shows."""

from __future__ import annotations

import json

from records.doctor.health import Health, losses
from tests.tui.snapshot_helpers import reading


def test_a_reading_survives_json() -> None:
    health = reading()
    assert Health.from_json(json.loads(json.dumps(health.to_json()))) == health


def test_losses_are_the_loss_metrics_above_zero() -> None:
    assert losses(reading()) == {
        "order": {"AsyncEventsDropped": 3},
        "update-inventory": {"DestinationDeliveryFailures": 1},
    }
    assert losses(Health(0.0)) == {}
