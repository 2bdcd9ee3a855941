"""The one exception type for bad user input: reported as a single line, exit code 2."""


class InputError(Exception):
    """A config, file or value the user gave that dlrun cannot use; the message says why."""
