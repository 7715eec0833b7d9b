"""Model compression with TF Model Optimization: QAT, pruning, TFLite, distillation."""
