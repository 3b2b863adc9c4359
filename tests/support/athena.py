"""The sandbox's Athena (`sandbox/patches/athena_queries.py`, on DuckDB) serving moto's
in-process mock, for the operating tests that run there: not a fake of Athena, the sandbox's own
implementation, over moto's own S3 and Glue backends.

- `serve_athena(monkeypatch, account, region)`: StartQueryExecution, GetQueryExecution and
  GetQueryResults answered by the sandbox's handlers with a `MotoView` current (queries run at
  once, in the calling thread, so they have SUCCEEDED or FAILED when the start returns).
- `crawl_s3_table(view, names)`: the S3 crawler's catalog table, written by the sandbox
  crawler's own code (`crawl_catalog.s3_table`) with the spec's CSV classifier, as `wcpipe run`
  leaves it.
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

import pytest


class MotoView:
    """What the Athena handlers and the crawler's table writer use of a sandbox, over moto's
    in-process backends: `backend`, `state`, `background` (run at once)."""

    def __init__(self, account_id: str, region: str) -> None:
        self.account_id, self.region = account_id, region
        self.state: dict[str, Any] = {}

    def backend(self, service: str) -> Any:
        from moto.backends import get_backend

        # S3's backend is one per partition; the others per region
        return get_backend(service)[self.account_id]["aws" if service == "s3" else self.region]  # type: ignore[index]

    def background(self, pool: str, fn: Any, *args: Any, **kwargs: Any) -> Future[Any]:
        done: Future[Any] = Future()
        done.set_result(fn(*args, **kwargs))
        return done


def serve_athena(monkeypatch: pytest.MonkeyPatch, account_id: str, region: str) -> MotoView:
    from moto.athena.responses import AthenaResponse

    from wcpipe.sandbox import context
    from wcpipe.sandbox.patches import athena_ops, athena_queries

    athena_ops.install()
    view = MotoView(account_id, region)

    def served(handler: Any) -> Any:
        def method(self: Any) -> Any:
            with context.activate(view):  # type: ignore[arg-type]
                return handler(self)

        return method

    for name in ("start_query_execution", "get_query_execution", "get_query_results"):
        monkeypatch.setattr(AthenaResponse, name, served(getattr(athena_queries, name)))
    return view


def crawl_s3_table(view: MotoView, aws: Any, names: Any) -> None:
    from support.catalog import spec_classifier
    from wcpipe.sandbox.patches import crawl_catalog

    glue = aws.client("glue")
    spec_classifier(glue, names)
    glue.update_crawler(Name=names.s3_crawler, Classifiers=[names.classifier])
    backend = view.backend("glue")
    crawler = backend.get_crawler(names.s3_crawler)
    name, table = crawl_catalog.s3_table(view, backend, crawler, crawler.targets["S3Targets"][0])  # type: ignore[arg-type]
    crawl_catalog.write_table(backend, names.s3_database, name, table, "UPDATE_IN_DATABASE")
