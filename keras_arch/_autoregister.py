"""Register keras_arch's custom objects with tf_keras as soon as TensorFlow
is imported, without importing TensorFlow at ``import keras_arch``.

tf_keras registers a class when the module defining it runs, so a saved
``moe`` model loads only in a process that imported
``keras_arch.layers.mixture_of_experts``. Importing every layer module at
``import keras_arch`` would import TensorFlow there (6 s here; ``--help``
must stay instant). Instead ``install()`` puts a finder on ``sys.meta_path``
that watches the imports of ``tensorflow``, ``tf_keras`` and keras_arch's own
submodules. Once both TensorFlow and tf_keras have finished importing,
``keras_arch.custom_objects.register()`` runs (about 30 ms), and the finder
removes itself. The import of ``tensorflow`` itself runs with its known
harmless native log lines filtered out (``keras_arch/quiet.py``).

One subtlety: TensorFlow is often first imported by a keras_arch module (a
layer's ``import tensorflow``). Registering then would import sibling modules
while that one is half-initialised, and ``from keras_arch.layers.x import X``
would fail as a circular import. So registration waits until no keras_arch
module is mid-import in this thread: it runs when the outermost one finishes.
"""
import importlib.abc
import sys
import threading
import warnings

_WATCHED = ("tensorflow", "tf_keras")
_PACKAGE = "keras_arch."
_state = threading.local()  # depth: keras_arch modules mid-import in this thread
_lock = threading.Lock()
_done = False


def _finished(name, just_finished=None):
    if name == just_finished:
        return True
    module = sys.modules.get(name)
    if module is None:
        return False
    return not getattr(getattr(module, "__spec__", None), "_initializing", False)


def _ready(just_finished=None):
    return all(_finished(n, just_finished) for n in _WATCHED)


def _register_now():
    global _done
    with _lock:
        if _done:
            return
        _done = True
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _Finder)]
    try:
        from keras_arch import custom_objects, quiet
        quiet.after_tensorflow_import()
        custom_objects.register()
    except Exception as e:  # never break the user's `import tensorflow`
        warnings.warn(f"keras_arch could not register its custom objects with tf_keras "
                      f"({type(e).__name__}: {e}); load saved models with "
                      f"keras_arch.custom_objects.load_model(path)", stacklevel=2)


def _maybe_register(just_finished=None):
    if not _done and getattr(_state, "depth", 0) == 0 and _ready(just_finished):
        _register_now()


class _Loader(importlib.abc.Loader):
    """Runs the real loader, then registers if TensorFlow is now ready."""

    def __init__(self, loader, name):
        self._loader, self._name = loader, name

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        # Nothing should see this wrapper once the module runs.
        module.__loader__ = self._loader
        if getattr(module, "__spec__", None) is not None:
            module.__spec__.loader = self._loader
        ours = self._name.startswith(_PACKAGE)
        if ours:
            _state.depth = getattr(_state, "depth", 0) + 1
        try:
            if self._name == "tensorflow":  # its import prints absl/cudart_stub lines on fd 2
                from keras_arch.quiet import native_stderr
                with native_stderr():
                    self._loader.exec_module(module)
            else:
                self._loader.exec_module(module)
        finally:
            if ours:
                _state.depth -= 1
        _maybe_register(just_finished=self._name)

    def __getattr__(self, name):
        return getattr(self._loader, name)


class _Finder(importlib.abc.MetaPathFinder):
    """Finds watched modules with the other finders and wraps their loaders."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in _WATCHED and not fullname.startswith(_PACKAGE):
            return None
        spec = None
        for finder in list(sys.meta_path):
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        spec.loader = _Loader(spec.loader, fullname)
        return spec


def install():
    """Register now if TensorFlow and tf_keras are already imported, else on
    their import. Called once by ``keras_arch/__init__.py``."""
    if _ready():
        _register_now()
    elif not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.insert(0, _Finder())
