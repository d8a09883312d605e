"""The pages: Streamlit scripts run by ``st.navigation`` in dashboard/app.py, one per view."""
