"""Channels translate between a transport (LINE, web chat) and the engine."""
