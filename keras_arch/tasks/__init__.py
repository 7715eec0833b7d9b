"""Tasks: what each arch family does differently (data, model, losses,
evaluation, summary, plots, serving, the options it honours). One trainer,
:class:`keras_arch.training.trainer.Trainer`, runs them all.

A new arch needs a builder (``keras_arch/models/``) and one
:func:`keras_arch.recipe.register` call in ``keras_arch/recipes.py``; a new
Task only if it trains differently from the ones here.
"""
