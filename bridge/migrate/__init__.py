"""`bridge migrate`: an OpenClaw install's plaintext credentials into Vault, planned first, checked at every step."""
