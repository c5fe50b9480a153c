"""Questions over the user's own files: collections, extraction, the index, retrieval, citations."""
