"""The domain core of the HPC MLOps monitor (no streamlit here)."""
