"""Credential stores: one small interface (get, store, erase) and the backends behind it."""
