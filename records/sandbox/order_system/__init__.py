"""The seed article's order system: the handlers of the sandbox's default stack."""
