"""Streamlit helpers shared by every page: the frame, live training jobs, common inputs.

Kept out of ``core/`` (which never imports Streamlit) and out of ``pages/`` (where every ``.py``
file becomes a page).
"""
