"""Promises 3 and 10b: crash consistency. `wcpipe up` (and `down`) run as child processes that
SIGKILL themselves (helpers/crash.py), alternately just before a request is sent and just after
it was served but before its answer is read.

- The chain: each run is killed at its STEP-th mutating request and the next run starts from
  where the last one died, so the kill points walk through the whole run. After every crash
  nothing exists twice; the first run that is not killed converges to exactly the declared set
  (`plan` then reports no change). The same for `down`, which must finally leave nothing, by
  the services' listings and by the tagging API.
- The bucket window: a crash between CreateBucket and its tagging (the one resource whose tags
  cannot be sent with the create call that wcpipe makes today) is its own, deterministic test.
  The chain starts with the pipeline's bucket already created and tagged, so that window (which
  the scheduler would hit at random) does not make the chain's result a matter of luck.
- Redshift Serverless: the chain's kill points fall on the warehouse's requests by chance, so
  on Serverless (the one path that differs) each of its mutating requests is a kill point of
  its own, just after it was served (the answer lost): CreateNamespace and CreateWorkgroup in
  `up` (the next `up` finds them CREATING), DeleteWorkgroup and DeleteNamespace in `down`
  (the next `down` finds them DELETING); then one clean run converges.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from support.census import census
from support.figures import report
from support.harness import Pipeline, new_pipeline, tagged, wait_idle

CRASH = Path(__file__).resolve().parent / "helpers" / "crash.py"

STEP = 6
"""Mutating requests between kill points (a fresh `up` sends about 45, a `down` about 30)."""
MAX_RUNS = 25


def crash(pl: Pipeline, *args: str, when: str = "before-send", **env: str) -> str:
    """One run of `wcpipe <args>` through helpers/crash.py; returns where it died, or
    `done after N` (N mutating requests) if it was not killed. Fails if the run failed."""
    child = pl.sh(*args, script=CRASH, WCPIPE_KILL_WHEN=when, **env)
    _, err = child.communicate(timeout=120)
    if child.returncode == 0:
        tally = [line for line in err.splitlines() if line.startswith("MUTATIONS ")]
        return f"done after {tally[-1].split()[-1]}"
    assert child.returncode == -9, f"the run failed instead of dying:\n{err[-3000:]}"
    killed = [line for line in err.splitlines() if line.startswith("KILLED at ")]
    # What the dead process started on the sandbox's side (statements, deliveries) ends alone.
    wait_idle(pl.sandbox)
    return killed[-1].split(": ", 1)[-1]


def crash_until_done(pl: Pipeline, *args: str) -> list[str]:
    """Run `wcpipe <args>` again and again, each run killed at its STEP-th mutating request,
    until one is not killed; after every crash, check that nothing exists twice."""
    kills: list[str] = []
    for run in range(MAX_RUNS):
        when = "before-send" if run % 2 == 0 else "response-received"
        where = crash(pl, *args, when=when, WCPIPE_KILL_AT=str(STEP))
        kills.append(where)
        if where.startswith("done"):
            return kills
        assert census(pl).duplicates() == {}, f"after the crash at {where} ({kills})"
    raise AssertionError(f"still not done after {MAX_RUNS} runs: {kills}")


def _our_bucket(pl: Pipeline) -> None:
    from wcpipe.spec.names import OWNER_TAG

    s3, bucket = pl.client("s3"), pl.names().bucket
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": OWNER_TAG, "Value": pl.name}]})


def test_up_and_down_killed_anywhere_converge(pipeline: Pipeline) -> None:
    _our_bucket(pipeline)
    up_kills = crash_until_done(pipeline, "up", "--yes")
    assert len(up_kills) >= 5, f"the kill points cover the run: {up_kills}"
    assert census(pipeline).converged() == {}
    plan = pipeline.cli("--output", "json", "plan")
    assert plan.code == 0 and json.loads(plan.out)["pending"] == 0, plan

    down_kills = crash_until_done(pipeline, "down", "--yes")
    assert len(down_kills) >= 3, f"the kill points cover the run: {down_kills}"
    assert census(pipeline).leftovers() == {}
    assert tagged(pipeline.sandbox, pipeline.name) == []
    report(
        f"crash consistency: {len(up_kills) - 1} kill points in up, {len(down_kills) - 1} in "
        f"down (every {STEP}th mutating request, then a clean finish)"
    )
    report(f"  up killed at: {', '.join(up_kills)}")
    report(f"  down killed at: {', '.join(down_kills)}")


def test_up_killed_between_creating_and_tagging_the_bucket(pipeline: Pipeline) -> None:
    """Killed after CreateBucket, before PutBucketTagging: the next `up` must still know the
    bucket as its own, or the pipeline is stuck until a person deletes or tags it."""
    where = crash(pipeline, "up", "--yes", WCPIPE_KILL_ON="s3.PutBucketTagging")
    assert where.endswith("s3.PutBucketTagging"), where
    again = pipeline.cli("up", "--yes")
    assert again.code == 0, again.err[-1500:]
    assert census(pipeline).converged() == {}


SERVERLESS_UP = ("redshift-serverless.CreateNamespace", "redshift-serverless.CreateWorkgroup")
SERVERLESS_DOWN = ("redshift-serverless.DeleteWorkgroup", "redshift-serverless.DeleteNamespace")


def _killed_at_each(pl: Pipeline, operations: tuple[str, ...], *args: str) -> list[str]:
    """One run per operation, killed once it was served (the item exists and is changing, and
    its answer is lost), each run continuing where the last died; after each crash nothing
    exists twice."""
    kills = []
    for operation in operations:
        where = crash(pl, *args, when="response-received", WCPIPE_KILL_ON=operation)
        assert where.endswith(operation), (operation, where)
        assert census(pl).duplicates() == {}, f"after the crash at {where}"
        kills.append(where)
    return kills


def test_serverless_up_and_down_killed_at_each_warehouse_request_converge(
    sandbox: Any, tmp_path: Path
) -> None:
    pl = new_pipeline(sandbox, tmp_path, warehouse="serverless")
    up_kills = _killed_at_each(pl, SERVERLESS_UP, "up", "--yes")
    again = pl.cli("up", "--yes")
    assert again.code == 0, again
    assert census(pl).converged() == {}
    plan = pl.cli("--output", "json", "plan")
    assert plan.code == 0 and json.loads(plan.out)["pending"] == 0, plan

    down_kills = _killed_at_each(pl, SERVERLESS_DOWN, "down", "--yes")
    again = pl.cli("down", "--yes")
    assert again.code == 0, again
    assert census(pl).leftovers() == {}
    assert tagged(sandbox, pl.name) == []
    report(
        f"crash consistency on Serverless: up killed at {', '.join(up_kills)}; "
        f"down killed at {', '.join(down_kills)}; then each finished"
    )
