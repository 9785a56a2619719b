"""Read models rebuilt from events alone, each tracked so a restart neither loses nor repeats an event."""
