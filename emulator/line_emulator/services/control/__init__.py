"""The control API under ``/__emulator__``: users, their actions, clock, faults, logs, settings."""
