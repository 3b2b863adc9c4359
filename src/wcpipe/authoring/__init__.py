"""Drafting a spec from a user's CSV (`wcpipe init`): reading CSV (`csvio`), inferring column types
(`infer`) and writing the draft spec (`draft`)."""
