"""What the document notebooks share (``notebooks/src/``): the fast setting,
figure display, the formula check and the ``%%as_written`` cell magic.

A notebook's first cell imports this module after ``keras_arch.quiet.enable()``
(the notebooks' choice: TensorFlow's start-up log lines stay out of the
outputs). Imports IPython; nothing else in the package does.
"""
import contextlib
import io
import os
import tempfile

import numpy as np

FAST = os.environ.get("KERAS_ARCH_NOTEBOOK_FAST") == "1"  # CI's setting: fewer epochs
FIG = tempfile.mkdtemp(prefix="keras_arch-figures-")  # figures are shown inline, written here first


def show(path):
    """Display the PNG at ``path`` in the notebook."""
    from IPython.display import Image, display
    display(Image(filename=path))


def formula_check(label, keras_value, numpy_value, tol=1e-4):
    """Print the largest absolute difference between the library's value and
    NumPy's, and fail the cell when it exceeds ``tol``.

    Args:
        label: the formula, as the page typesets it.
        keras_value, numpy_value: what the layer computed and what NumPy did.
        tol: the largest difference float32 rounding explains.
    """
    diff = float(np.max(np.abs(np.asarray(keras_value, np.float64) - np.asarray(numpy_value, np.float64))))
    print(f"{label}: max |Keras - NumPy| = {diff:.1e}")
    assert diff < tol, f"{label} does not hold: {diff}"


def as_written(line, cell):
    """The ``%%as_written`` cell magic: run a document's code exactly as
    written, in a namespace of its own (plus the notebook variables named on
    the ``%%as_written`` line), and print its error instead of raising it,
    so the notebook goes on."""
    from IPython import get_ipython
    namespace = {name: get_ipython().user_ns[name] for name in line.split()}
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(cell, "<document>", "exec"), namespace)
    except Exception as e:  # the document's own error is the output
        lines = [line for line in str(e).strip().splitlines() if line.strip()]
        if len(lines) > 10:  # a traceback inside Keras's graph: its last lines say what failed
            lines = lines[:1] + ["    ..."] + lines[-3:]
        print(f"{type(e).__name__}: " + "\n".join(lines))
    else:
        last = (out.getvalue().strip().splitlines() or [""])[-1].split("\r")[-1]
        print("runs to the end without an error; its last output line:\n" + last)


def setup():
    """Register ``%%as_written`` in the running IPython kernel."""
    from IPython import get_ipython
    get_ipython().register_magic_function(as_written, "cell")
