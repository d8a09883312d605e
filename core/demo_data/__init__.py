"""Demo inputs: copies of public sacct outputs, Slurm logs and workspace listings (see SOURCES-*.md)."""
