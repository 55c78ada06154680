"""OpenClaw integration: its config file (JSON5), the provider registration, and the one runner for its CLI."""
