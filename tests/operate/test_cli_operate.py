"""Operational status (for `wcpipe status`) and the operating commands' shared CLI behaviour."""

from __future__ import annotations

from datetime import UTC, datetime

from wcpipe.operate.status import operational_status


def test_operational_status_with_nothing_created(octx, moto) -> None:
    status = operational_status(octx)
    assert set(status["last crawls"].values()) == {"not created"}
    assert "never ran" in next(iter(status["last job run"].values()))
    assert status["lambda (last 24 h)"] == {"invocations": "0", "errors": "0"}


def test_operational_status_after_a_crawl_and_a_run(octx, deployed) -> None:
    glue = octx.client("glue")
    glue.start_crawler(Name=deployed.s3_crawler)
    glue.list_crawls(CrawlerName=deployed.s3_crawler)
    run_id = glue.start_job_run(JobName=deployed.job)["JobRunId"]
    octx.client("cloudwatch").put_metric_data(
        Namespace="AWS/Lambda",
        MetricData=[
            {
                "MetricName": "Invocations",
                "Value": 3,
                "Timestamp": datetime.now(UTC),
                "Dimensions": [{"Name": "FunctionName", "Value": deployed.function}],
            }
        ],
    )

    status = operational_status(octx)

    assert "at " in status["last crawls"][deployed.s3_crawler]
    assert "never crawled" in status["last crawls"][deployed.redshift_crawler]
    assert status["last job run"]["run id"] == run_id
    assert status["last job run"]["state"] == "SUCCEEDED"
    assert status["lambda (last 24 h)"]["invocations"] == "3"


def test_operational_status_tolerates_a_failing_read(octx, deployed) -> None:
    from botocore.stub import Stubber

    with Stubber(octx.client("cloudwatch")) as stub:
        stub.add_client_error("get_metric_statistics", "AccessDenied", "no cloudwatch for you")
        status = operational_status(octx)
    assert status["lambda (last 24 h)"] == {"unavailable": "AccessDenied: no cloudwatch for you"}


def test_cli_help_lists_operating_commands(invoke) -> None:
    code, out, _ = invoke("--help")
    assert code == 0
    for name in ("run-crawler", "start-job", "run", "logs", "verify"):
        assert name in out


def test_cli_run_crawler_bad_choice_is_usage_error(invoke, moto) -> None:
    code, _, err = invoke("run-crawler", "nope")
    assert code == 2
    assert "nope" in err


def test_cli_commands_import_no_boto3_or_rich_at_module_level() -> None:
    import subprocess
    import sys

    code = (
        "import sys; import wcpipe.cli.operate, wcpipe.cli.logs_cmd, wcpipe.cli.verify_cmd; "
        "bad = [m for m in ('boto3', 'botocore', 'rich') if m in sys.modules]; "
        "sys.exit(1 if bad else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_alerts_section_only_with_alerts_and_says_what_is_not_created(octx, moto) -> None:  # type: ignore[no-untyped-def]
    from wcpipe.provision.resources.base import Context
    from wcpipe.spec.model import Alerts

    assert "alerts" not in operational_status(octx)
    spec = octx.spec.model_copy(update={"alerts": Alerts(email=("ops@example.com",))})
    alerting = Context(spec=spec, aws=octx.aws, timing=octx.timing)
    assert operational_status(alerting)["alerts"] == {
        "topic": "not created",
        "wcpipe-fifa-lambda-errors": "not created",
        "wcpipe-fifa-rejected-values": "not created",
        "wcpipe-fifa-no-load": "not created",
    }


def test_cli_verify_before_up_hints_wcpipe_up(invoke, moto) -> None:
    """Nothing created: the same hint `run` gives, not S3's NoSuchBucket."""
    code, out, err = invoke("verify")
    assert (code, out) == (1, "")
    assert "error: bucket 'wcpipe-fifa-" in err and "' does not exist" in err
    assert err.splitlines()[-1] == "hint: create the pipeline first: wcpipe up"
    assert "NoSuchBucket" not in err
