"""The aggregator: consumes the event stream into ClickHouse; owns the schema and migrations."""
