"""Dialogs: channel-neutral conversation logic. Never imports Flask or linebot."""
