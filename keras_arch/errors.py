"""The one exception type the CLI turns into a single line and exit code 2."""


class UsageError(Exception):
    """Bad input from the user: an unknown name, a missing or corrupt file, a bad value."""


class TrainingError(Exception):
    """Training could not go on (a NaN loss): one line and exit code 1; what
    was saved before stays as it was."""
