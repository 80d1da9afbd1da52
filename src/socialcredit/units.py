"""Units shared by the compiler, the engine and the results: defined once."""

DAYS_PER_YEAR = 365.0
