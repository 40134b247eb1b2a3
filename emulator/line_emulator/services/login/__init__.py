"""LINE Login v2.1: authorize, token, verify, revoke, profile, OpenID discovery, LIFF tokens."""
