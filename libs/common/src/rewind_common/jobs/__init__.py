"""Jobs: the model and state machine every service shares, and status reporting."""
