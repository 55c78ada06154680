"""Telling someone: alerts, due rotations and failed provider tests posted to a webhook ([notify] in config.toml;
docs/edge.md)."""
