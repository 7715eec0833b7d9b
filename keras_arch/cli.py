"""What every keras_arch command line shares: bad input is one line on stderr
and exit code 2, never a traceback."""
import argparse
import os
import sys

from keras_arch.errors import TrainingError, UsageError


class Parser(argparse.ArgumentParser):
    """No prefix matching (``--epoch`` is not ``--epochs``) and no empty
    strings: ``--data-dir ""`` is a mistake, not "use the default"."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def parse_known_args(self, args=None, namespace=None):
        namespace, extras = super().parse_known_args(args, namespace)
        for action in self._actions:
            value = getattr(namespace, action.dest, None)
            if (isinstance(action, argparse._StoreAction) and isinstance(value, str)
                    and not value.strip() and value != action.default):
                name = "/".join(action.option_strings) or action.dest
                self.error(f"argument {name}: expected a non-empty value, got {value!r}")
        return namespace, extras

    def error(self, message):  # argparse would print the whole usage block first
        raise UsageError(message)


def checked(convert, ok, expected):
    """An argparse type: ``convert`` the text, then require ``ok(value)``."""
    def parse(text):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text}")
        return value
    return parse


positive_int = checked(int, lambda v: v > 0, "a positive integer")
non_negative_int = checked(int, lambda v: v >= 0, "a non-negative integer")
positive_float = checked(float, lambda v: v > 0, "a positive number")
seed = checked(int, lambda v: 0 <= v <= 2 ** 32 - 1, "a seed in 0 .. 2**32-1")
def _pruning(text):
    """A sparsity "0.8", or an M:N pattern "2:4" (M zeros in every N weights)."""
    if ":" in text:
        m, n = (int(part) for part in text.split(":"))
        return f"{m}:{n}"
    return float(text)


def _pruning_ok(value):
    if isinstance(value, str):
        m, n = map(int, value.split(":"))
        return 0 < m < n
    return 0 < value < 1


sparsity = checked(_pruning, _pruning_ok, 'a sparsity in (0, 1) or an M:N pattern such as "2:4"')


def run_main(prog, body, argv):
    try:
        return body(argv)
    except UsageError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 2
    except TrainingError as e:
        print(f"{prog}: training stopped: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 141
