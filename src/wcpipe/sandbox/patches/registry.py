"""The one registry of what the sandbox patches into moto: `MODULES`, in the order installed.

Contract:
- Every module of `MODULES` exports `PINS`, the moto internals it patches or relies on (with
  those of the helper modules it drives: crawl_catalog's are crawler's, job_run's, job_load's
  and job_engine's are jobs', athena_engine's are athena_queries'), and `install()`,
  idempotent through `context.once`.
- `install()` installs every module's patches: `server.start` calls it before moto's server
  serves, so every patch is in place at sandbox start (once per process; patches stay
  installed after the last sandbox stops, and act as plain moto then: `context.or_moto`).
- `pins()` is the union of every module's PINS; tests/sandbox/test_moto_pins.py checks each of
  them (and server's and core's) against the installed moto, which must be `MOTO_VERSION`.
- Not in `patches/__init__.py`: a module that imports one patch module (s3_policy, which tests
  apply to moto's mock) must not import them all.
"""

from __future__ import annotations

from types import ModuleType

from wcpipe.sandbox.patches import (
    actors,
    alarms,
    athena_ops,
    athena_queries,
    conflicts,
    crawler,
    dataapi,
    endpoint_routes,
    glue_ops,
    jobs,
    lambda_runner,
    latency,
    s3_events,
    s3_policy,
    schedules,
    serverless,
    sns_delivery,
)

MOTO_VERSION = "5.2.5"

MODULES: tuple[ModuleType, ...] = (
    conflicts,  # what AWS refuses (or keeps) that moto lets through
    endpoint_routes,  # a gateway endpoint's added route tables route, removed ones stop
    dataapi,  # the Redshift Data API on PostgreSQL
    glue_ops,  # the Glue operations moto lacks
    athena_ops,  # the Athena workgroup operations as AWS behaves
    athena_queries,  # Athena's queries run on DuckDB over the sandbox's S3 objects
    lambda_runner,  # EventBridge -> Lambda and Invoke, without docker
    sns_delivery,  # EventBridge -> SNS, email subscriptions pending, what topics publish
    alarms,  # CloudWatch alarms evaluated when their metrics arrive, actions notified
    s3_policy,  # bucket policies evaluated as for a TLS request
    s3_events,  # S3 -> EventBridge Object Created events as AWS shapes them
    crawler,  # StartCrawler crawls
    jobs,  # StartJobRun runs
    serverless,  # Redshift Serverless, which moto lacks
    latency,  # the readiness delays of a latency profile
    actors,  # requests made as a role authorised as that role
    schedules,  # scheduled crawlers start on the sandbox's clock
)


def install() -> None:
    """Install every module's patches (each module's `install` runs once per process)."""
    for module in MODULES:
        module.install()


def pins() -> tuple[tuple[str, str], ...]:
    """Every module's PINS, each (module, attribute) once."""
    return tuple(dict.fromkeys(pin for module in MODULES for pin in module.PINS))
