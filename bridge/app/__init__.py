"""What every use case is handed: the process context, an admin session, and how a verb declares itself."""
