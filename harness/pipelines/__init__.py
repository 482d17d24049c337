"""Pipelines: the run lifecycle (runs, steps, data-quality results, cost) and the provider pipelines."""
