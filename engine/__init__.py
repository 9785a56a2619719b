"""The domain of microdemand: lifecycle, commands, the MicroDemand aggregate, policies, settings."""
