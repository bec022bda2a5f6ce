"""Hardening (issue 8): fuzzing of every parser and of the live API, and injected faults."""
