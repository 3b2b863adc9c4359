"""The Glue job script (uploaded by wcpipe, runs in AWS Glue)."""
