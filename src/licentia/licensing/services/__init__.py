"""The licensing protocol's changes, a module per subject: sessions (capture, heartbeat,
release, reset), sweep, tokens, trials and problems."""
