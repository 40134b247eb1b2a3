"""Messaging API: reply, push, multicast, broadcast, narrowcast, validate, quota, profiles,
followers, bot info and link tokens."""
