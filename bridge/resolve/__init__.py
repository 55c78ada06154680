"""The resolve path: what `bridge resolve` runs at every gateway start and reload.

Kept import-free: each module here imports only what a resolve needs.
"""
