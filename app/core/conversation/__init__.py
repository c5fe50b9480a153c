"""One turn of a conversation: the chat service, recording the answer, context, summaries, shadow runs."""
