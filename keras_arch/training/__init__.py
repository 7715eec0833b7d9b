"""Training: optimizers and schedules, the recipe-driven trainer."""
