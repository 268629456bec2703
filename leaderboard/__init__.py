"""Streamlit leaderboard over the results store (installed as eval_anything.leaderboard)."""
