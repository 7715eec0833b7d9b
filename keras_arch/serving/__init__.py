"""TF Serving: versioned, atomic SavedModel exports."""
