"""Staff accounts: sign-in protection (failed logins and wrong API keys throttled, password
checks bounded), the password hasher, and the owner's staff page where a lock is lifted."""
