"""tokenlean: pull only the context an agent needs, and show what it saved."""

__version__ = "0.1.0"
