"""Fixtures of the resource tests: the FIFA pipeline with alerts."""

from __future__ import annotations

from typing import Any

import pytest

from wcpipe.core.wait import Timing
from wcpipe.provision.resources.base import Context
from wcpipe.spec.model import Alerts

ADDRESSES = ("ops@example.com", "data@example.org")


@pytest.fixture
def alerting(spec: Any, aws: Any, clock: Any) -> Context:
    """The FIFA pipeline with `alerts: {email: [ADDRESSES]}`."""
    with_alerts = spec.model_copy(update={"alerts": Alerts(email=ADDRESSES)})
    return Context(spec=with_alerts, aws=aws, timing=Timing(sleep=clock.sleep, clock=clock))
