"""footfall's shared kernel: settings, connections, key and table names, the event wire model."""

__version__ = "0.1.0"
