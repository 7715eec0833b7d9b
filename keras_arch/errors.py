"""The one exception type the CLI turns into a single line and exit code 2."""


class UsageError(Exception):
    """Bad input from the user: an unknown name, a missing or corrupt file, a bad value."""
