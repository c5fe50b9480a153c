"""Learning from the user's own verdicts: labels for the confidence, and refitting it per model.

``labels`` keeps what the user said about answers (✓ Good, ✗ Wrong, "Ask a
stronger model", the choice in Compare) as labels in the local database;
``refit`` fits the model's calibration again from them, and ``learner``
ties the two to the chat: it records a verdict and refits in the background
once there are enough.
"""
