"""dlrun: a command-line runner for deep-learning course experiments."""

__version__ = "0.1.0"
