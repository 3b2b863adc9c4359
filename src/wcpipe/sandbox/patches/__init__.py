"""What the sandbox adds to moto, one module per AWS service behaviour moto lacks: the crawlers,
the job runs and their load, the Redshift Data API, the Lambda runner, S3 bucket policies, request
conflicts and latency. `sandbox.server` installs them."""
