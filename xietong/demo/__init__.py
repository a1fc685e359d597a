"""The demo world: the organisations, employers and figures named in the seeds, with synthetic people."""
