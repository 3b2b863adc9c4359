"""The Lambda function that starts the Glue job (packaged by wcpipe, runs in AWS)."""
