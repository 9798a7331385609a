"""lambdest-tui: the domain of Lambda execution records, usable without any UI."""
