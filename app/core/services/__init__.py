"""Services as the user adds them: a provider's preset, its keys, Verify, its model list, its tier.

Tools → Providers and ``hearth providers`` both call these modules; neither holds a rule of its own.
"""
