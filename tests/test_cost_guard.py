"""The cost guard (issue 15): `plan` and `up`, before `up` asks, show each billable resource with
its pricing unit and rate (`wcpipe.spec.pricing`); `--output json` carries them as numbers.
Through the command, on the sandbox (plan reads only; the `up` here is answered "no")."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.paths import SPEC_PATH

from wcpipe.spec import pricing


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def serverless_spec(tmp_path: Path) -> Path:
    """The FIFA spec on Redshift Serverless, 16 RPU base, 64 at most (data files beside it)."""
    text = SPEC_PATH.read_text()
    assert "\n  type: provisioned\n" in text
    text = text.replace(
        "\n  type: provisioned\n", "\n  type: serverless\n  base_rpu: 16\n  max_rpu: 64\n"
    )
    (tmp_path / "config").mkdir()
    (tmp_path / "data").symlink_to(SPEC_PATH.parent.parent / "data")
    spec = tmp_path / "config" / "pipeline.yaml"
    spec.write_text(text)
    return spec


def _by_resource(out: str) -> dict[str, dict[str, Any]]:
    return {c["resource"]: c for c in json.loads(out)["costs"]}


def test_plan_shows_cluster_node_hours_and_athena_scans(
    sandbox: Any, wcpipe: Callable[..., Any]
) -> None:
    base = ["-c", str(SPEC_PATH), "--endpoint-url", sandbox.endpoint]
    text = wcpipe(*base, "plan")
    assert text.code == 0, text
    assert "What it costs (AWS on-demand list prices in us-east-1, read 2026-12-03)" in text.out
    assert "node-hour" in text.out and "1 x ra3.large" in text.out
    assert "$0.543/node-hour = $0.54/hour, $396/month" in text.out
    assert "$5/TB scanned" in text.out and "10 MB minimum" in text.out

    costs = _by_resource(wcpipe(*base, "--output", "json", "plan").out)
    # The sandbox's default VPC has no NAT and no Secrets Manager endpoint: `up` would make one.
    assert set(costs) == {"redshift.cluster", "athena.workgroup", "ec2.secrets-endpoint"}
    endpoint = costs["ec2.secrets-endpoint"]
    assert endpoint["unit"] == "endpoint-AZ-hour" and endpoint["quantity"] == 1
    assert endpoint["action"] == "create" and endpoint["dollars_per_unit"] is None
    cluster = costs["redshift.cluster"]
    assert cluster["unit"] == "node-hour" and cluster["quantity"] == 1
    assert cluster["dollars_per_unit"] == 0.543 and cluster["dollars_per_hour"] == 0.543
    assert cluster["dollars_per_month"] == round(0.543 * 730, 2)
    assert cluster["action"] == "create" and cluster["region"] == "us-east-1"
    athena = costs["athena.workgroup"]
    assert athena["unit"] == "TB scanned" and athena["dollars_per_unit"] == 5.0
    assert athena["quantity"] == 10 * 2**20 / 2**40  # the 10 MB a query always bills


def test_up_shows_serverless_rpu_hours_before_it_asks(
    sandbox: Any,
    wcpipe: Callable[..., Any],
    serverless_spec: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base = ["-c", str(serverless_spec), "--endpoint-url", sandbox.endpoint]
    monkeypatch.setattr("sys.stdin", Terminal("n\n"))
    up = wcpipe(*base, "up")
    assert up.code == 1 and "up cancelled: nothing was changed" in up.err, up
    assert "RPU-hour" in up.out and "base 16 RPU" in up.out
    assert "per second of work (60 s minimum), not while idle" in up.out
    assert "$0.375/RPU-hour = $6.00/hour of work at base (up to $24.00 at max RPU)" in up.out
    assert "node-hour" not in up.out

    costs = _by_resource(wcpipe(*base, "--output", "json", "plan").out)
    workgroup = costs["redshift-serverless.workgroup"]
    assert workgroup["unit"] == "RPU-hour" and workgroup["quantity"] == 16
    assert workgroup["dollars_per_unit"] == 0.375 and workgroup["dollars_per_hour"] == 6.0
    assert workgroup["max_dollars_per_hour"] == 24.0
    assert workgroup["dollars_per_month"] is None  # it bills only while it works
    assert "redshift.cluster" not in costs


def test_a_node_type_the_page_prices_nowhere_in_its_text_has_no_figure(
    sandbox: Any, wcpipe: Callable[..., Any], tmp_path: Path
) -> None:
    """No guessed figure: the rate is null, and the line names the pricing page."""
    text = SPEC_PATH.read_text().replace("node_type: ra3.large", "node_type: ra3.xlplus")
    assert "ra3.xlplus" in text
    (tmp_path / "config").mkdir()
    (tmp_path / "data").symlink_to(SPEC_PATH.parent.parent / "data")
    spec = tmp_path / "config" / "pipeline.yaml"
    spec.write_text(text)
    base = ["-c", str(spec), "--endpoint-url", sandbox.endpoint]
    cluster = _by_resource(wcpipe(*base, "--output", "json", "plan").out)["redshift.cluster"]
    assert cluster["dollars_per_unit"] is None and cluster["dollars_per_hour"] is None
    plan = wcpipe(*base, "plan")
    assert "per node-hour: see https://aws.amazon.com/redshift/pricing/" in plan.out, plan
    assert "ra3.xlplus" not in pricing.NODE_HOUR_DOLLARS


def test_serverless_without_max_rpu_says_it_may_scale_above_base(spec: Any) -> None:
    from wcpipe.spec.names import Names

    wh = spec.warehouse.model_copy(update={"type": "serverless"})
    serverless = spec.model_copy(update={"warehouse": wh})
    [workgroup, athena, endpoint] = pricing.costs(
        serverless, Names.of(serverless, "123456789012", "us-east-1")
    )
    assert (workgroup.quantity, workgroup.dollars_per_hour) == (8, 3.0)
    assert workgroup.max_dollars_per_hour is None and workgroup.dollars_per_month is None
    assert workgroup.bills.endswith("not while idle; no max_rpu: it may scale above base")
    assert workgroup.rate_text() == "$0.375/RPU-hour = $3.00/hour of work at base"
    assert athena.rate_text() == "$5/TB scanned"
    # No guessed figure: the PrivateLink page renders its hourly rate in the browser only.
    assert (
        endpoint.rate_text()
        == "per endpoint-AZ-hour: see https://aws.amazon.com/privatelink/pricing/"
    )
