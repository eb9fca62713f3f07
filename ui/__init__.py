"""Shared Streamlit widgets and Plotly figure builders; pages import from here and stay thin."""
