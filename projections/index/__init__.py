"""The demand index: one row per demand (no personal data), for listings, rates and the overdue board."""
