"""What to evaluate: task and group specs, sample sources and loaders, the task catalog."""
