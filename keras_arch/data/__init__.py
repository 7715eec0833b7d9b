"""Data loaders. Each returns a :class:`~keras_arch.data.splits.Splits`."""
