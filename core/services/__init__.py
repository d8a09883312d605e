"""Services: what dashboard pages call."""
