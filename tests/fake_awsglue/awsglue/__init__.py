"""Fake awsglue (tests only)."""
