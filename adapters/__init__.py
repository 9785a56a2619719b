"""Everything at the edge: Temporal wiring, the embedded dev-server launcher, the CLI."""
