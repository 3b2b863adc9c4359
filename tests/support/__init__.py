"""Test support shared by every test package: plain modules, imported as `support.<module>`
(conftest files are not meant to be imported, and several of them share the module name
`conftest`). Fixtures stay in the conftest files; what they build comes from here.

- `paths`: where the repository's files are (ROOT, SPEC_PATH, FIFA_CSV, EVENTS_DIR), once.
- `clock`: `FakeClock`, injected time.
- `cli`: `run_cli`, the one way tests run the `wcpipe` command in-process, and its `CliResult`.
- `requests`: `Requests`, the one request recorder, and `is_read`, the one meaning of a read.
- `dataapi`: `DataApi`, moto's Data API made to finish statements and answer rows.
- `s3_policy`: moto's S3 taught to evaluate bucket policies for a TLS request.
- `sandbox`: sandboxes and databases on the session's PostgreSQL, emptied between them.
- `harness`: `Pipeline`s of their own on a shared sandbox (`new_pipeline`), run through `wcpipe`.
- `specs`: the FIFA spec written under another name (`write_spec`), and changed (`rewrite_spec`).
- `faults`: `Faults`, transient faults injected client-side, and `error_response`.
- `retry_sleeps`: botocore's retry backoff recorded instead of slept (the one botocore patch).
- `census`: what exists of a pipeline by each service's own listing, against its catalog.
- `figures`: measured figures, listed at the end of the run.
"""
