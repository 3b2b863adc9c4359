"""What the sandbox adds to moto, one module per AWS service behaviour moto lacks: the crawlers,
the job runs and their load, the Redshift Data API, the Glue operations moto lacks, the Lambda
runner, S3 bucket policies, request conflicts and latency. `registry.MODULES` lists the modules
that patch moto and `registry.install()` installs them; this package imports none of them."""
