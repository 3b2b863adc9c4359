"""What the spec's billable choices cost, by AWS's pricing unit: the cost guard `plan` and `up`
show before `up` asks (and `--output json` carries as numbers).

Contract:
- `costs(spec, names)` lists one `Cost` per billable thing the spec declares, in a fixed order:
  the warehouse (a provisioned cluster's node-hours, or a Serverless workgroup's RPU-hours at
  its base capacity), then Athena's bytes scanned (verify's queries). Pure: no AWS call.
- Every rate is AWS's on-demand list price in US East (N. Virginia) (`PRICED_REGION`), read on
  the pricing page cited beside it, on `READ_ON`. A rate the page does not give in its text is
  None, and the line says where to look instead of guessing a figure.
- Interface VPC endpoints bill per endpoint, per Availability Zone, per hour
  (`INTERFACE_ENDPOINT_DOLLARS_PER_AZ_HOUR`): the Secrets Manager endpoint `up` creates where
  the connection's subnet has no other way to Secrets Manager (one AZ: the subnet's;
  resources/ec2_endpoint_secrets.py). The S3 endpoint is a gateway endpoint, which AWS does not
  charge for (gateway endpoints "come at no additional charge": AWS Prescriptive Guidance,
  Startup Security Baseline, WKLD.12).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wcpipe.spec.model import Spec
    from wcpipe.spec.names import Names

READ_ON = "2026-12-03"
PRICED_REGION = "us-east-1"
HOURS_PER_MONTH = 730
"""The month AWS's pricing examples and calculator use (24 x 365 / 12)."""

# Amazon Redshift pricing, https://aws.amazon.com/redshift/pricing/ (read 2026-12-03): on-demand
# provisioned nodes bill per node-hour while the cluster exists (a paused cluster's compute does
# not bill). The page's text says "start small at $0.25 per hour" (the smallest node, dc2.large)
# and, as a transcription of it read on 2026-10-07 records (api-evangelist/amazon-redshift,
# plans/amazon-redshift-plans-pricing.yml), "$0.543 per hour" for an on-demand node (ra3.large
# in US East). It renders every other node type's rate per region in the browser, so those are
# None here (and the line names the page).
NODE_HOUR_DOLLARS: dict[str, float] = {"dc2.large": 0.25, "ra3.large": 0.543}

# Redshift Serverless, same page and transcription: $0.375 per RPU-hour in US East (N. Virginia).
# "When queries run, you're billed according to the capacity used in a given duration, in RPU
# hours on a per-second basis. When no queries are running, you aren't billed for compute
# capacity" (Amazon Redshift Management Guide, "Billing for Amazon Redshift Serverless"); "You
# pay for compute in RPU-hours, billed for each second, with a 60-second minimum" (the same
# guide, "Capacity and billing" of the express configuration: "Pricing is the same as Amazon
# Redshift Serverless").
RPU_HOUR_DOLLARS = 0.375
SERVERLESS_MINIMUM_SECONDS = 60

# AWS PrivateLink pricing, https://aws.amazon.com/privatelink/pricing/ (read 2026-12-03): "billed
# for each hour that your VPC endpoint remains provisioned in each Availability Zone ... Each
# partial VPC endpoint-hour consumed is billed as a full hour", plus $0.01 per GB processed
# (first PB). The page renders the hourly rate in the browser: not in its text, so None.
INTERFACE_ENDPOINT_DOLLARS_PER_AZ_HOUR: float | None = None
INTERFACE_ENDPOINT_DOLLARS_PER_GB = 0.01

# Amazon Athena pricing, https://aws.amazon.com/athena/pricing/ (read 2026-12-03): $5.00 per TB
# of data scanned, rounded up to the nearest megabyte, with a 10 MB minimum per query.
ATHENA_DOLLARS_PER_TB = 5.0
ATHENA_MIN_BYTES_PER_QUERY = 10 * 2**20


@dataclass(frozen=True)
class Cost:
    """One billable thing: what it is, the unit AWS bills, how many of them an hour, the rate."""

    resource: str
    kind: str
    name: str
    unit: str
    """AWS's pricing unit: "node-hour", "RPU-hour", "TB scanned"."""
    quantity: float
    """Units billed per hour it bills (nodes, base RPUs); per query for Athena (its minimum, TB)."""
    dollars_per_unit: float | None
    """The list rate (None: the pricing page gives no figure in its text)."""
    bills: str
    """When it bills, in AWS's terms."""
    dollars_per_hour: float | None = None
    """quantity x rate, for what bills by the hour (None otherwise or when the rate is unknown)."""
    dollars_per_month: float | None = None
    """A month (HOURS_PER_MONTH) of that, for what bills every hour it exists."""
    max_dollars_per_hour: float | None = None
    """Serverless: an hour of work at its maximum capacity (None when the spec sets no max_rpu)."""

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "region": PRICED_REGION, "read_on": READ_ON}

    def rate_text(self) -> str:
        """ "$0.375/RPU-hour = $3.00/hour ..." (or where to look, when the rate is unknown)."""
        if self.dollars_per_unit is None:
            return f"per {self.unit}: see {PRICING_PAGES[self.resource]}"
        text = f"${self.dollars_per_unit:g}/{self.unit}"
        if self.dollars_per_hour is not None:
            working = " of work at base" if self.unit == "RPU-hour" else ""
            text += f" = ${self.dollars_per_hour:,.2f}/hour{working}"
        if self.dollars_per_month is not None:
            text += f", ${self.dollars_per_month:,.0f}/month"
        if self.max_dollars_per_hour is not None:
            text += f" (up to ${self.max_dollars_per_hour:,.2f} at max RPU)"
        return text


PRICING_PAGES = {
    "redshift.cluster": "https://aws.amazon.com/redshift/pricing/",
    "redshift-serverless.workgroup": "https://aws.amazon.com/redshift/pricing/",
    "athena.workgroup": "https://aws.amazon.com/athena/pricing/",
    "ec2.secrets-endpoint": "https://aws.amazon.com/privatelink/pricing/",
}


def _hourly(quantity: float, rate: float | None) -> tuple[float | None, float | None]:
    if rate is None:
        return None, None
    return round(quantity * rate, 4), round(quantity * rate * HOURS_PER_MONTH, 2)


def warehouse_cost(spec: Spec, names: Names) -> Cost:
    wh = spec.warehouse
    if wh.type == "serverless":
        per_hour, _ = _hourly(wh.base_rpu, RPU_HOUR_DOLLARS)  # no month: it bills only working
        most = None if wh.max_rpu is None else round(wh.max_rpu * RPU_HOUR_DOLLARS, 4)
        ceiling = "" if wh.max_rpu is not None else "; no max_rpu: it may scale above base"
        return Cost(
            "redshift-serverless.workgroup",
            "Redshift Serverless workgroup",
            names.workgroup,
            "RPU-hour",
            wh.base_rpu,
            RPU_HOUR_DOLLARS,
            f"base {wh.base_rpu} RPU, per second of work "
            f"({SERVERLESS_MINIMUM_SECONDS} s minimum), not while idle{ceiling}",
            per_hour,
            None,
            most,
        )
    rate = NODE_HOUR_DOLLARS.get(wh.node_type)
    per_hour, per_month = _hourly(wh.nodes, rate)
    return Cost(
        "redshift.cluster",
        "Redshift cluster",
        names.cluster,
        "node-hour",
        wh.nodes,
        rate,
        f"{wh.nodes} x {wh.node_type}, every hour it exists (until `wcpipe down`)",
        per_hour,
        per_month,
    )


def athena_cost(names: Names) -> Cost:
    return Cost(
        "athena.workgroup",
        "Athena workgroup",
        names.athena_workgroup,
        "TB scanned",
        ATHENA_MIN_BYTES_PER_QUERY / 2**40,
        ATHENA_DOLLARS_PER_TB,
        "per query verify runs on Athena (10 MB minimum), not otherwise",
    )


def interface_endpoint_cost() -> Cost:
    """The Secrets Manager interface endpoint: one AZ (the connection's subnet), every hour."""
    per_hour, per_month = _hourly(1, INTERFACE_ENDPOINT_DOLLARS_PER_AZ_HOUR)
    return Cost(
        "ec2.secrets-endpoint",
        "VPC interface endpoint",
        "secretsmanager",  # com.amazonaws.<region>.secretsmanager, kept short for the table
        "endpoint-AZ-hour",
        1,
        INTERFACE_ENDPOINT_DOLLARS_PER_AZ_HOUR,
        f"1 AZ, every hour it exists (+${INTERFACE_ENDPOINT_DOLLARS_PER_GB:g}/GB)",
        per_hour,
        per_month,
    )


def costs(spec: Spec, names: Names) -> list[Cost]:
    """The billable things `spec` declares (see the module docstring)."""
    return [warehouse_cost(spec, names), athena_cost(names), interface_endpoint_cost()]
