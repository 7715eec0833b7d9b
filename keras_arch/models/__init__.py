"""Functional-API builders, one module per family; each returns an uncompiled tf_keras.Model."""
