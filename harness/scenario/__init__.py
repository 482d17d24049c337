"""Scenario files: the YAML flows users write, run, record and replay."""
