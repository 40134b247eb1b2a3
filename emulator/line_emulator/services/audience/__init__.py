"""Manage Audience API: audiences uploaded by JSON or file, for narrowcast."""
