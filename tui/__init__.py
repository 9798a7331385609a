"""lambdest-tui: the Textual terminal UI and the command line."""
