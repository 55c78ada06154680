"""Local stores: credential backends behind one interface, the sealed file, the cache, config, paths and files."""
