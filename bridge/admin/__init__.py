"""Verbs people run by hand to manage credentials and the cache; none of them is on the resolve path."""
