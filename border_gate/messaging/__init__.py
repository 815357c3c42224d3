"""Messages: the outbox written with each transition, the policy of what follows what."""
