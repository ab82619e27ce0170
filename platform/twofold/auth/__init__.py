"""Users, memberships and roles, passwords, API tokens, throttling and the security log."""
