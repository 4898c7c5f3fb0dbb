"""The `footfall` program, above the components: its command line, the all-in-one server
that mounts them (`serve`), the embedded default's Redis and data dir, the roads to the
stores with no server running, and the operator's tools."""
