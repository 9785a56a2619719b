"""The Temporal side: the MicroDemand workflow and the activities that record its events."""
