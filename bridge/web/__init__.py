"""`bridge ui`: the local dashboard, an entry point beside the command line (see bridge.web.command)."""
