"""Generated sequence tasks, with fixed seeds, for the recurrent models' embedded defaults."""
import numpy as np

from keras_arch.data import images
from keras_arch.data.splits import Splits

PAD, START, END = 0, 1, 2  # reserved ids of the seq2seq vocabulary


def timestep_labels(n=1500, steps=100, features=64, classes=10, seed=0, **_):
    """Document 000 §4.2's shapes, (100, 64) -> a label per timestep: the label
    at t is the strongest of the first ten features summed over t-1 and t, so
    the model has to remember one step back."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, (n, steps, features)).astype(np.float32)
    window = x[:, :, :classes] + np.concatenate([np.zeros_like(x[:, :1, :classes]), x[:, :-1, :classes]], 1)
    y = np.argmax(window, -1).astype(np.int64)  # (n, steps)
    a, b = int(n * 0.8), int(n * 0.9)
    return Splits("timesteps", x[:a], y[:a], x[a:b], y[a:b], classes, x[b:], y[b:])


def digit_rows(dataset="digits", data_dir=None, test_dir=None):
    """Images read row by row as sequences: (28 timesteps, 28 features)."""
    s = images.load(dataset=dataset, data_dir=data_dir, test_dir=test_dir)
    squeeze = lambda a: None if a is None else a[..., 0]  # noqa: E731
    return Splits(s.name, squeeze(s.x_train), s.y_train, squeeze(s.x_val), s.y_val, s.num_classes,
                  squeeze(s.x_test), s.y_test, s.test_name)


def reversal(n=6000, min_len=20, max_len=24, vocab=23, seed=0, **_):
    """Reverse a sequence of 20-24 tokens (ids 3..vocab-1): the decoder must
    look at the source position mirroring its own, which attention makes easy
    and a single context vector makes hard."""
    rng = np.random.default_rng(seed)
    length = max_len + 1  # target has END (input has START)
    src = np.zeros((n, max_len), np.int32)
    tgt_in = np.zeros((n, length), np.int32)
    tgt_out = np.zeros((n, length), np.int32)
    for i in range(n):
        k = int(rng.integers(min_len, max_len + 1))
        seq = rng.integers(3, vocab, k)
        src[i, :k] = seq
        rev = seq[::-1]
        tgt_in[i, 0], tgt_in[i, 1:k + 1] = START, rev
        tgt_out[i, :k], tgt_out[i, k] = rev, END
    a, b = int(n * 0.8), int(n * 0.9)
    x = {"source": src, "target_in": tgt_in}
    cut = lambda lo, hi: {k: v[lo:hi] for k, v in x.items()}  # noqa: E731
    return Splits("reversal", cut(0, a), tgt_out[:a], cut(a, b), tgt_out[a:b], vocab,
                  cut(b, n), tgt_out[b:], builder_args={"vocab_size": vocab, "max_length": length})


def load_timesteps(dataset="generated", data_dir=None, test_dir=None):
    return timestep_labels()


def load_reversal(dataset="generated", data_dir=None, test_dir=None):
    return reversal()
