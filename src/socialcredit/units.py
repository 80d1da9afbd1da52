"""Units shared by the layers that turn days into years."""

DAYS_PER_YEAR = 365.0
