"""access.line.me's account-link dialog, as a browser sees it."""
