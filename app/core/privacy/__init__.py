"""What may leave this computer: the policy, the one outgoing gate, redaction, and erasing it all."""
