"""`substrate diff`: what a change does to a stack's plan."""
