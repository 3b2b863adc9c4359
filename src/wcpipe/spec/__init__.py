"""The pipeline spec: the pydantic models and their loading with line numbers (`model`), and every
physical name, ARN, key and log group derived from it, in one place (`names`)."""
