"""Use cases. Each takes a session (plus settings and `now` where needed), flushes and never
commits: the command, request or job that calls it owns the transaction."""
