"""Operating the pipeline once it is up: crawls, job runs, the event-driven flow, logs, verify."""
