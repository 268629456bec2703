"""The types every stage shares: content parts, samples, model requests and outputs, and the
results records. Nothing here imports a stage (specs, runs, models, judges, scoring, the store)."""
