"""PulseGate: self-hosted web analytics and lead capture on one embedded DuckDB file."""

__version__ = "0.1.0"
