"""The Glue job on Glue's own engine, offline: real PySpark running the shipped `glue/load.py`.

Contract:
- `engine.check()` says whether this machine can run it (a Java runtime and `pyspark` pinned to
  the Glue version's Spark); `engine.run(...)` runs one job run the way Glue does: the script and
  its `--extra-py-files` fetched from S3, `python script --JOB_ID … --JOB_RUN_ID … --JOB_NAME …`
  followed by the run's merged arguments, the zips on the driver's and executors' Python path,
  stdout to `/aws-glue/jobs/output` and stderr to `/aws-glue/jobs/error`.
- `awsglue/` is what the script imports as `awsglue`: a shim of the parts of AWS's package
  (github awslabs/aws-glue-libs, branch sync-glue-5.1) the script uses, each function citing
  the code it mirrors. The argument rules (`utils.getResolvedOptions`, `job.Job`) are AWS's,
  line for line; the catalog read and the Redshift write run on this sandbox's moto and
  PostgreSQL through real boto3 clients and psycopg, with the connector's order and transaction
  (spark-redshift-community `RedshiftWriter.saveToRedshift`). Where a shim cannot be faithful it
  says so in its docstring, and it refuses what AWS refuses.
- The shim never imports `wcpipe`: the script sees only `awsglue`, pyspark and the lib zip, as on
  Glue, so a module missing from the zip fails here as it would there. One file of it imports
  nothing at all, `awsglue/_bucket_checks.py` (the connector's checks of the TempDir's bucket):
  the sandbox's fast engine loads it too (`patches/glue_access`), so both engines log alike.
"""
