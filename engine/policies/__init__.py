"""The policies a deployment may change without code: time limits and points, and their loader."""
