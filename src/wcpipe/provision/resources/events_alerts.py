"""EventBridge: the alert rules, Glue's failures sent to the pipeline's alert topic.

Contract: as `events.Rule` (this module's rules are that class with another pattern and target;
see its docstring: describe reads only, differences names pattern, state, description, targets,
tags). Present only with `alerts` in the spec (`resources.catalog`).

- `job-failed`: "Glue Job State Change" of this pipeline's job in state FAILED, TIMEOUT or
  STOPPED (the job states of Glue's events, AWS Glue developer guide, "Automating AWS Glue with
  EventBridge"; shape: tests/fixtures/glue-events/job-failed.json). A load that rejects values
  FAILS its run (glue/load.py), with the rejected columns, counts and samples in Glue's
  message: this rule is what reports it, naming the run.
- `crawl-failed`: "Glue Crawler State Change" of either crawler in state "Failed" (crawler
  events spell states "Failed"/"Succeeded", job events "FAILED"/"SUCCEEDED").

Each target has an InputTransformer: the message is one JSON object that says which pipeline,
which hop, what happened, the run id where there is one, Glue's own message, and the one
command to look (`wcpipe logs job --run-id …`). Placeholders inside quotes take string values:
EventBridge escapes them as JSON strings ("Transforming target input", EventBridge user guide:
the input template's placeholders, and quoting string values). The topic's policy admits exactly
these two rules' ARNs (`iam_policies.alerts_topic_policy`).
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from wcpipe.provision.resources.events import RETRY_POLICY, Rule
from wcpipe.provision.resources.sns import topic_arn

TARGET_ID = "alert-topic"
JOB_FAILED_STATES = ["FAILED", "TIMEOUT", "STOPPED"]
CRAWL_FAILED_STATES = ["Failed"]


def job_failed_pattern(job: str) -> dict[str, Any]:
    return {
        "source": ["aws.glue"],
        "detail-type": ["Glue Job State Change"],
        "detail": {"jobName": [job], "state": JOB_FAILED_STATES},
    }


def crawl_failed_pattern(crawlers: list[str]) -> dict[str, Any]:
    return {
        "source": ["aws.glue"],
        "detail-type": ["Glue Crawler State Change"],
        "detail": {"crawlerName": sorted(crawlers), "state": CRAWL_FAILED_STATES},
    }


def job_failed_transformer(pipeline: str) -> dict[str, Any]:
    paths = {
        "job": "$.detail.jobName",
        "run": "$.detail.jobRunId",
        "state": "$.detail.state",
        "message": "$.detail.message",
        "time": "$.time",
    }
    message = {
        "pipeline": pipeline,
        "hop": "load",
        "resource": "Glue job <job>",
        "state": "<state>",
        "run": "<run>",
        "time": "<time>",
        "message": "<message>",
        "look": "wcpipe logs job --run-id <run>",
    }
    return {"InputPathsMap": paths, "InputTemplate": json.dumps(message)}


def crawl_failed_transformer(pipeline: str) -> dict[str, Any]:
    paths = {
        "crawler": "$.detail.crawlerName",
        "state": "$.detail.state",
        "message": "$.detail.errorMessage",
        "time": "$.time",
    }
    message = {
        "pipeline": pipeline,
        "hop": "crawl",
        "resource": "Glue crawler <crawler>",
        "state": "<state>",
        "run": None,
        "time": "<time>",
        "message": "<message>",
        "look": "wcpipe logs crawler --since 1h",
    }
    return {"InputPathsMap": paths, "InputTemplate": json.dumps(message)}


class _AlertRule(Rule):
    declared_by = "alerts"
    depends_on: ClassVar[tuple[str, ...]] = ("sns.topic",)
    hop: str

    def arn(self) -> str:
        return self.ctx.aws.arn("events", f"rule/{self.name}")

    def transformer(self) -> dict[str, Any]:
        raise NotImplementedError

    def _target(self) -> dict[str, Any]:
        return {
            "Id": TARGET_ID,
            "Arn": topic_arn(self),
            "RetryPolicy": RETRY_POLICY,
            "InputTransformer": self.transformer(),
        }

    def _description(self) -> str:
        return f"wcpipe {self.ctx.spec.name}: alert when the {self.hop} fails"


class JobFailedRule(_AlertRule):
    key = "events.job-failed-rule"
    kind = "EventBridge rule"
    hop = "load (Glue job run)"

    @property
    def name(self) -> str:
        return self.ctx.names.job_failed_rule

    def pattern(self) -> dict[str, Any]:
        return job_failed_pattern(self.ctx.names.job)

    def transformer(self) -> dict[str, Any]:
        return job_failed_transformer(self.ctx.spec.name)


class CrawlFailedRule(_AlertRule):
    key = "events.crawl-failed-rule"
    kind = "EventBridge rule"
    hop = "crawl (Glue crawler)"

    @property
    def name(self) -> str:
        return self.ctx.names.crawl_failed_rule

    def pattern(self) -> dict[str, Any]:
        names = self.ctx.names
        return crawl_failed_pattern([names.s3_crawler, names.redshift_crawler])

    def transformer(self) -> dict[str, Any]:
        return crawl_failed_transformer(self.ctx.spec.name)
