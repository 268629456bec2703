"""The view and its filters in the page's URL (``st.query_params``), so a view can be shared:
a widget starts from the link's value once, then every change is written back to the URL."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

SEPARATOR = ","


def from_link(key: str, param: str, allowed: Sequence[str], many: bool = False) -> None:
    """Preset widget ``key`` from URL parameter ``param`` on the first run of a session (values
    the store does not offer are dropped: an old link still opens)."""
    if key in st.session_state or param not in st.query_params:
        return
    raw = st.query_params.get(param) or ""
    if many:
        st.session_state[key] = [v for v in raw.split(SEPARATOR) if v in allowed]
    elif raw in allowed:
        st.session_state[key] = raw


def to_link(param: str, value: str | Sequence[str] | None) -> None:
    """Write a widget's value to the URL (a list comma-joined; empty removes the parameter)."""
    text = value if isinstance(value, str) or value is None else SEPARATOR.join(value)
    if text:
        if st.query_params.get(param) != text:
            st.query_params[param] = text
    elif param in st.query_params:
        del st.query_params[param]
