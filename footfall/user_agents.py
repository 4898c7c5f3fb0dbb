"""The one user-agent parser of a process: ua-parser's fastest resolver, loaded once.

The collector's bot filter and the aggregator's enrichment (browser, OS, device)
both parse agents, and `footfall serve` runs them in one process. A second parser
(ua-parser's default, built on its first use) held 25 MB more there, for the same
answers. Each caller keeps its own cache of what it derives.
"""

from __future__ import annotations

import ua_parser

# The fastest resolver installed (Rust `ua-parser-rs` when present), without ua-parser's
# own cache: the callers cache their answers per agent.
RESOLVER = ua_parser.BestAvailableResolver
PARSER = ua_parser.Parser(RESOLVER(ua_parser.load_builtins()))
