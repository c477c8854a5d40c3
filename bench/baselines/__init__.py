"""Bare apps the ingest benchmark compares PulseGate against, served by the same Granian setup."""
