"""One pipeline's whole life on the sandbox, under injected transient faults from start to end:
promises 1 (faults), 7 (least privilege and safe defaults), 8 (secrets) and 10 (teardown).

The steps are tests that run in file order on one module-scoped pipeline; every CLI run is kept
in a transcript that the secrets test scans. `Faults` (support.faults) fails every 4th first attempt
of every request wcpipe sends -- throttling (SlowDown, RequestLimitExceeded, Throttling,
ThrottlingException, TooManyRequestsException) alternating with 5xx -- and botocore's standard
retry mode must absorb each one; its backoff sleeps are recorded, not slept.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from support.census import census
from support.cli import CliResult
from support.faults import Faults, error_response
from support.figures import report
from support.harness import Pipeline, new_pipeline, tagged, wait_idle
from support.retry_sleeps import skip_retry_sleeps

COMMANDS = {"up", "plan", "down", "run", "verify", "status", "logs"}


@dataclass
class Life:
    pipeline: Pipeline
    faults: Faults
    transcript: list[tuple[str, CliResult]] = field(default_factory=list)
    absorbed: dict[str, int] = field(default_factory=dict)
    steps_ok: set[str] = field(default_factory=set)

    def cli(self, *args: str) -> CliResult:
        before = self.faults.total
        result = self.pipeline.cli(*args)
        command = next(a for a in args if a in COMMANDS)
        self.absorbed[command] = self.absorbed.get(command, 0) + self.faults.total - before
        self.transcript.append((" ".join(args), result))
        return result

    def need(self, *steps: str) -> None:
        missing = [s for s in steps if s not in self.steps_ok]
        if missing:
            pytest.skip(f"needs the earlier step(s) {missing}")


@pytest.fixture(scope="module")
def life(sandbox: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Life]:
    with pytest.MonkeyPatch.context() as mp:
        skip_retry_sleeps(mp)
        faults = Faults(every=4).install()
        try:
            pl = new_pipeline(sandbox, tmp_path_factory.mktemp("life"))
            yield Life(pl, faults)
        finally:
            faults.uninstall()
            report(f"lifecycle: {faults.total} faults injected {dict(faults.injected)}")


@pytest.fixture
def lc(life: Life) -> Life:
    return life


def _password(pl: Pipeline) -> str:
    value = pl.client("secretsmanager").get_secret_value(SecretId=pl.names().secret)
    password = json.loads(value["SecretString"])["password"]
    assert len(password) >= 16
    return str(password)


# 8: a failed create that echoes the password, with --debug ----------------------------------------


class EchoPassword:
    """Fail every CreateCluster attempt with an error whose text quotes the password it was sent
    (as botocore's parameter validation or a careless service message could).

    Every attempt, not only the first: botocore calls every before-send hook and takes the first
    answer, so when `Faults` (registered earlier) answers an attempt, this hook's answer is
    dropped and botocore retries; a hook that fired only once let that retry reach the server."""

    def __init__(self) -> None:
        self.fired = False

    def __call__(self, request: Any, **_: Any) -> Any:
        body = request.body.decode() if isinstance(request.body, bytes) else str(request.body)
        form = parse_qs(body)
        if form.get("Action") != ["CreateCluster"]:
            return None
        self.fired = True
        password = form["MasterUserPassword"][0]
        return error_response(
            "query",
            400,
            "InvalidParameterValue",
            f"The parameter MasterUserPassword '{password}' is not a valid password.",
        )


def test_failed_up_with_debug_shows_no_password(lc: Life) -> None:
    from wcpipe.core.aws import instrument

    echo = EchoPassword()
    remove = instrument("before-send.redshift", echo)
    try:
        result = lc.cli("--debug", "up", "--yes")
    finally:
        remove()
    assert echo.fired, "the cluster was never created"
    assert result.code == 1, result
    assert "Traceback" in result.err, "--debug shows the traceback"
    assert "MasterUserPassword '***'" in result.err, result.err[-1500:]
    assert _password(lc.pipeline) not in result.out + result.err
    lc.steps_ok.add("secret")


# 1: up absorbs faults and converges ------------------------------------------------------------


def test_up_under_faults_converges(lc: Life) -> None:
    result = lc.cli("--output", "json", "up", "--yes")
    assert result.code == 0, result
    json.loads(result.out)
    plan = lc.cli("--output", "json", "plan")
    assert plan.code == 0, plan
    assert json.loads(plan.out)["pending"] == 0, plan.out
    assert census(lc.pipeline).converged() == {}
    assert lc.absorbed["up"] > 0 and lc.absorbed["plan"] > 0, lc.absorbed
    report(f"faults absorbed: up {lc.absorbed['up']}, plan {lc.absorbed['plan']}")
    lc.steps_ok.add("up")


# 7: least privilege and safe defaults, as deployed --------------------------------------------


def _access_level(action: str) -> str:
    import parliament

    service, name = action.split(":", 1)
    for entry in parliament.iam_definition:
        if entry["prefix"] == service:
            for privilege in entry["privileges"]:
                if privilege["privilege"].lower() == name.lower():
                    return str(privilege["access_level"])
    raise AssertionError(f"unknown action {action}")


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def policy_problems(document: dict[str, Any]) -> list[str]:
    """What a least-privilege review objects to in an identity policy."""
    import parliament

    problems = [
        f"parliament {f.issue}: {f.detail}"
        for f in parliament.analyze_policy_string(json.dumps(document)).findings
    ]
    for statement in document["Statement"]:
        if statement["Effect"] != "Allow":
            continue
        sid = statement.get("Sid", "?")
        actions = _as_list(statement["Action"])
        problems += [f"{sid}: wildcard action {a}" for a in actions if "*" in a]
        if "*" in _as_list(statement["Resource"]) and "Condition" not in statement:
            # AWS accepts only "*" for actions without a resource type: fine for reads, but a
            # write on "*" reaches every such resource in the account.
            writes = [a for a in actions if _access_level(a) not in ("Read", "List")]
            problems += [f"{sid}: {a} ({_access_level(a)}) on every resource" for a in writes]
    return problems


def test_generated_policies_are_least_privilege(lc: Life) -> None:
    """The pure policy functions, audited by parliament and by the rules above."""
    from wcpipe.provision.resources.iam_policies import glue_policy, lambda_policy, redshift_policy

    names = lc.pipeline.names()
    found = {
        build.__name__: policy_problems(build(names, "aws"))
        for build in (glue_policy, lambda_policy, redshift_policy)
    }
    assert found == {"glue_policy": [], "lambda_policy": [], "redshift_policy": []}


def test_deployed_roles_are_least_privilege(lc: Life) -> None:
    lc.need("up")
    iam = lc.pipeline.client("iam")
    names = lc.pipeline.names()
    services = {
        names.glue_role: ["glue.amazonaws.com"],
        names.lambda_role: ["lambda.amazonaws.com"],
        names.redshift_role: ["redshift.amazonaws.com"],
    }
    for role, principals in services.items():
        assert iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"] == []
        assert iam.list_role_policies(RoleName=role)["PolicyNames"] == ["wcpipe"]
        document = iam.get_role_policy(RoleName=role, PolicyName="wcpipe")["PolicyDocument"]
        assert policy_problems(document) == [], role
        trust = iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
        for statement in trust["Statement"]:
            assert _as_list(statement["Principal"]["Service"]) == principals
            assert _as_list(statement["Action"]) == ["sts:AssumeRole"]
    # Only EventBridge, only from our rule and account, may invoke the function.
    policy = json.loads(
        lc.pipeline.client("lambda").get_policy(FunctionName=names.function)["Policy"]
    )
    (statement,) = policy["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Condition"]["ArnLike"]["AWS:SourceArn"].endswith(f":rule/{names.rule}")
    assert statement["Condition"]["StringEquals"]["AWS:SourceAccount"]


def test_no_ingress_from_anywhere(lc: Life) -> None:
    """No security group in the sandbox (every VPC) admits 0.0.0.0/0 or ::/0; ours admits only
    itself."""
    lc.need("up")
    ec2 = lc.pipeline.client("ec2")
    open_rules = []
    for page in ec2.get_paginator("describe_security_group_rules").paginate():
        for rule in page["SecurityGroupRules"]:
            if not rule.get("IsEgress") and (
                rule.get("CidrIpv4") == "0.0.0.0/0" or rule.get("CidrIpv6") == "::/0"
            ):
                open_rules.append(rule)
    assert open_rules == []
    names = lc.pipeline.names()
    (group,) = ec2.describe_security_groups(
        Filters=[
            {"Name": "vpc-id", "Values": [lc.pipeline.vpc_id]},
            {"Name": "group-name", "Values": [names.security_group]},
        ]
    )["SecurityGroups"]
    (rule,) = group["IpPermissions"]
    assert [p["GroupId"] for p in rule["UserIdGroupPairs"]] == [group["GroupId"]]
    assert rule["IpRanges"] == [] and rule["Ipv6Ranges"] == []


def test_cluster_encrypted_and_private(lc: Life) -> None:
    lc.need("up")
    names = lc.pipeline.names()
    (cluster,) = lc.pipeline.client("redshift").describe_clusters(ClusterIdentifier=names.cluster)[
        "Clusters"
    ]
    assert cluster["Encrypted"] is True
    assert cluster["PubliclyAccessible"] is False
    assert len(cluster["VpcSecurityGroups"]) == 1


def test_bucket_private_encrypted_tls_only(lc: Life) -> None:
    lc.need("up")
    s3 = lc.pipeline.client("s3")
    names = lc.pipeline.names()
    bucket = names.bucket
    blocks = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert blocks == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    deny_plain_http = [
        s
        for s in policy["Statement"]
        if s["Effect"] == "Deny"
        and s["Principal"] in ("*", {"AWS": "*"})
        and _as_list(s["Action"]) == ["s3:*"]
        and set(_as_list(s["Resource"])) == {f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"}
        and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    ]
    assert len(deny_plain_http) == 1, policy
    ownership = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
    assert ownership == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    connection = lc.pipeline.client("glue").get_connection(Name=names.connection)["Connection"]
    assert connection["ConnectionProperties"]["JDBC_ENFORCE_SSL"] == "true"


# 1: run and verify absorb faults ---------------------------------------------------------------


def test_run_and_verify_under_faults(lc: Life) -> None:
    lc.need("up")
    result = lc.cli("run")
    assert result.code == 0, result
    wait_idle(lc.pipeline.sandbox)
    check = lc.cli("--output", "json", "verify")
    assert check.code == 0, check
    lc.cli("--output", "json", "status")
    lc.cli("logs")
    assert lc.absorbed["run"] > 0 and lc.absorbed["verify"] > 0, lc.absorbed
    report(f"faults absorbed: run {lc.absorbed['run']}, verify {lc.absorbed['verify']}")
    lc.steps_ok.add("run")


# 9: no lost or doubled rows, under the same faults ---------------------------------------------

COLUMNS = ("source_index, year, hosts, total_attendance, matches, average_attendance, "
           "highest_attendance, venue, games")  # fmt: skip


def expected_rows(*paths: Path) -> list[tuple[Any, ...]]:
    """The rows the source files imply, worked out here independently of wcpipe's transform:
    the totals row dropped, spaces normalized, footnotes and thousands separators removed."""
    rows = []
    for path in paths:
        with path.open(newline="", encoding="utf-8") as handle:
            for record in csv.DictReader(handle):
                if record["Year"] == "Overall":
                    continue
                hosts = " ".join(record["Hosts"].split())  # NBSP and runs of spaces: one ' '
                highest = re.sub(r"\[[^\]]*\]", "", record["Number"]).replace(",", "")
                rows.append(
                    (int(record[""]), int(record["Year"]), hosts,
                     int(record["Total_Attendance"]), int(record["Matches"]),
                     int(record["Average_Attendance"]), int(highest), record["Venue"],
                     record["Game(s)"])
                )  # fmt: skip
    return sorted(rows)


def warehouse_rows(pl: Pipeline) -> list[tuple[Any, ...]]:
    with pl.sandbox.pg_connect(pl.database) as conn:
        return sorted(tuple(r) for r in conn.execute(f"SELECT {COLUMNS} FROM public.attendance"))


def _sources(pl: Pipeline) -> list[Path]:
    return [pl.spec_path.parent / f for f in pl.spec().data.files]


def _run(lc: Life) -> None:
    result = lc.cli("run")
    assert result.code == 0, result
    wait_idle(lc.pipeline.sandbox)


def test_three_runs_over_unchanged_data_leave_exactly_the_source_rows(lc: Life) -> None:
    lc.need("run")  # the first of the three
    _run(lc)
    _run(lc)
    rows = warehouse_rows(lc.pipeline)
    assert len(rows) == 22
    assert rows == expected_rows(*_sources(lc.pipeline))
    assert lc.cli("verify").code == 0


NEW_FILE = (
    ",Year,Hosts,Total_Attendance,Matches,Average_Attendance,Number,Venue,Game(s)\n"
    '22,2026,United States\u00a0Canada Mexico,6500000,104,62500,"94,000[1]",'
    '"MetLife Stadium, New Jersey","Final"\n'
    '23,2030,Morocco Portugal Spain,6100000,104,58653,"115,000",'
    '"Hassan II Stadium, Casablanca","Final"\n'
)


def test_a_new_file_adds_exactly_its_rows(lc: Life) -> None:
    lc.need("run")
    pl = lc.pipeline
    (pl.spec_path.parent / "data" / "future.csv").write_text(NEW_FILE, encoding="utf-8")
    pl.rewrite(lambda raw: raw["data"]["files"].append("data/future.csv"))
    assert lc.cli("up", "--yes").code == 0
    _run(lc)
    rows = warehouse_rows(pl)
    assert len(rows) == 24
    assert rows == expected_rows(*_sources(pl))
    assert lc.cli("verify").code == 0
    lc.steps_ok.add("rows")


def test_verify_catches_a_doubled_row_and_a_lost_value(lc: Life) -> None:
    lc.need("rows")
    pl = lc.pipeline
    with pl.sandbox.pg_connect(pl.database) as conn:
        conn.execute(
            "INSERT INTO public.attendance SELECT * FROM public.attendance WHERE year = 1930"
        )
        doubled = lc.cli("verify")
        conn.execute(
            "DELETE FROM public.attendance WHERE ctid = "
            "(SELECT max(ctid) FROM public.attendance WHERE year = 1930)"
        )
        # "173,850[86]" read as 173: the thousands lost in conversion.
        conn.execute("UPDATE public.attendance SET highest_attendance = 173 WHERE year = 1950")
        lost = lc.cli("verify")
        conn.execute("UPDATE public.attendance SET highest_attendance = 173850 WHERE year = 1950")
    assert doubled.code == 1, doubled
    assert "rows" in doubled.out + doubled.err
    assert lost.code == 1, lost
    assert "highest_attendance" in lost.out + lost.err
    for result in (doubled, lost):
        assert "Traceback" not in result.err
    assert lc.cli("verify").code == 0, "restored, verify agrees again"
    assert warehouse_rows(pl) == expected_rows(*_sources(pl))


# 8: the password appears nowhere ----------------------------------------------------------------


def _haystacks(lc: Life) -> Iterator[tuple[str, str]]:
    """Everything captured or stored that a person or a log reader could see."""
    pl, names = lc.pipeline, lc.pipeline.names()
    for command, result in lc.transcript:
        yield f"wcpipe {command} stdout", result.out
        yield f"wcpipe {command} stderr", result.err
    logs = pl.client("logs")
    for page in logs.get_paginator("describe_log_groups").paginate():
        for group in page["logGroups"]:
            name = group["logGroupName"]
            events = logs.get_paginator("filter_log_events").paginate(logGroupName=name)
            yield f"log group {name}", "\n".join(e["message"] for p in events for e in p["events"])
    function = pl.client("lambda").get_function(FunctionName=names.function)
    yield "Lambda configuration", json.dumps(function["Configuration"], default=str)
    glue = pl.client("glue")
    yield "Glue job", json.dumps(glue.get_job(JobName=names.job)["Job"], default=str)
    runs = glue.get_job_runs(JobName=names.job)["JobRuns"]
    yield "Glue job runs", json.dumps(runs, default=str)
    connection = glue.get_connection(Name=names.connection, HidePassword=False)["Connection"]
    yield "Glue connection", json.dumps(connection, default=str)
    for crawler in (names.s3_crawler, names.redshift_crawler):
        yield f"crawler {crawler}", json.dumps(glue.get_crawler(Name=crawler), default=str)
    targets = pl.client("events").list_targets_by_rule(Rule=names.rule)["Targets"]
    yield "EventBridge targets", json.dumps(targets)
    statements = pl.client("redshift-data").list_statements()["Statements"]
    yield "Data API statement history", "\n".join(s.get("QueryString", "") for s in statements)


def test_password_appears_nowhere(lc: Life) -> None:
    lc.need("secret", "up", "run")
    password = _password(lc.pipeline)
    # A partial leak is a leak too (say, text mangled by markup): any 10 characters of it.
    pieces = {password[i : i + 10] for i in range(len(password) - 9)}
    leaks = []
    scanned = 0
    for where, text in _haystacks(lc):
        scanned += len(text)
        if any(p in text for p in pieces):
            leaks.append(where)
    assert leaks == []
    assert scanned > 10_000, "the scan saw next to nothing"
    report(f"secrets: scanned {len(lc.transcript)} command outputs, {scanned} characters")


# 1 + 10: down absorbs faults and leaves nothing -----------------------------------------------


def test_down_under_faults(lc: Life) -> None:
    lc.need("up")
    assert tagged(lc.pipeline.sandbox, lc.pipeline.name), "the tagging API sees the pipeline"
    result = lc.cli("--output", "json", "down", "--yes")
    assert result.code == 0, result
    assert lc.absorbed["down"] > 0, lc.absorbed
    report(f"faults absorbed: down {lc.absorbed['down']}")
    again = lc.cli("down", "--yes")
    assert again.code == 0 and "nothing to delete" in again.err, again
    lc.steps_ok.add("down")


def test_down_leaves_nothing_in_any_service_listing(lc: Life) -> None:
    lc.need("down")
    counts = census(lc.pipeline)
    assert set(counts.declared) <= set(counts.found)
    assert counts.leftovers() == {}


def test_down_leaves_nothing_tagged(lc: Life) -> None:
    lc.need("down")
    assert tagged(lc.pipeline.sandbox, lc.pipeline.name) == []
