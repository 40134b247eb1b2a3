"""Signed webhook delivery to the bot, and the webhook settings endpoints."""
