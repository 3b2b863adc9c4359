"""What ships to Glue inside `wcpipe_lib.zip`, stdlib-only and nothing else: the reference value
semantics (`values`), their compiled per-column form (`convert`), the job's config, mapper, counts
and rejects (`transform`) and the staging-table SQL the job runs (`loadsql`). Nothing here may
import outside this package or the standard library: the zip is built from this package alone."""
