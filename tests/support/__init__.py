"""Test support shared by every test package: plain modules, imported as `support.<module>`
(conftest files are not meant to be imported, and several of them share the module name
`conftest`). Fixtures stay in the conftest files; what they build comes from here.

- `paths`: where the repository's files are (ROOT, SPEC_PATH, FIFA_CSV, EVENTS_DIR), once.
- `clock`: `FakeClock`, injected time.
- `cli`: `run_cli`, the one way tests run the `wcpipe` command in-process, and its `CliResult`.
- `requests`: `Requests`, the one request recorder, and `is_read`, the one meaning of a read.
- `dataapi`: `DataApi`, moto's Data API made to finish statements and answer rows.
- `s3_policy`: moto's S3 taught to evaluate bucket policies for a TLS request.
"""
