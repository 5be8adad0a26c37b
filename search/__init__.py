"""Search across the apps: one query, each app's own rows, only what the searcher may see.

`search` is platform code like `server.api`: it knows no app. Each app registers a
`SearchProvider` in its `AppConfig.ready` (search.registry); the engine (search.engine)
runs the same query syntax, ranking, keyset pagination and highlighting over each of them.
"""
