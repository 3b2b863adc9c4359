"""The warehouse side: SQL text derived from the spec (`sql`) and the Redshift Data API client that
runs it (`dataapi`)."""
