"""The collector: HTTP ingest of page views and heartbeats into the Redis stream.

It owns the Events API, the snippet, validation, the bot filter, the cookieless
visitor id, online presence and the public counters endpoint. It talks to Redis
only, never to ClickHouse.
"""
