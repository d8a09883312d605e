"""Storage backends behind one ObjectStore protocol."""
