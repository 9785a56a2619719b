"""The HTTP API, its Open311 face, the codec endpoint for Temporal's Web UI, and the web console."""
