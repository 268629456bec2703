"""Reproducibility: what produced a run (commit, dirty tree, packages, task fingerprints,
judges), and the run's results.json to download.

The model is named by its short name; its full name (a path, often long) is in the model's
details below it, and long hashes (task fingerprints) show their first characters in the table,
in full in the tasks' details, so nothing runs off a 1280 px screen."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from eval_anything.leaderboard import data
from eval_anything.leaderboard.render import model_label, run_choice_label


def render(url: str) -> None:
    st.header("Reproducibility")
    runs = data.runs(url)
    run_id = st.selectbox("Run", list(runs["run_id"]), key="rp_run",
                          format_func=lambda rid: run_choice_label(runs, rid))
    if run_id is None:
        return
    d = data.run_details(url, run_id)
    env = d["environment"]
    cols = st.columns(4)
    cols[0].metric("commit", (env.get("git_commit") or "unknown")[:12])
    dirty = env.get("git_dirty")
    cols[1].metric("dirty tree", "unknown" if dirty is None else ("yes" if dirty else "no"))
    cols[2].metric("python", env.get("python") or "-")
    cols[3].metric("device", env.get("device") or "-")
    st.text(f"run {d['run_id']}  created {d['created_at']}  platform {env.get('platform') or '-'}")
    st.subheader("Model")
    identity = str(d["model"].get("identity") or "-")
    st.text(f"{model_label(d['model'].get('name'))}  identity {identity[:12]}")
    with st.expander("Model details (full name, identity, adapter)"):
        st.json(d["model"])
    st.subheader("Run spec")
    st.json(d["spec"], expanded=False)
    if d["lineage"]:
        st.subheader("Training lineage")
        st.json(d["lineage"])
    st.subheader("Tasks")
    st.dataframe(pd.DataFrame([
        {"task": t, "version": v["task_version"], "fingerprint": v["task_fingerprint"][:12],
         "n": v["n"], "judges": "; ".join(j["role"] for j in v["judges"]) or "-"}
        for t, v in d["tasks"].items()
    ]), hide_index=True, width="stretch", key="rp_tasks")
    with st.expander("Task fingerprints and judges in full"):
        st.json({t: {"fingerprint": v["task_fingerprint"], "judges": v["judges"]}
                 for t, v in d["tasks"].items()})
    st.subheader("Packages")
    st.dataframe(pd.DataFrame(sorted(env.get("packages", {}).items()),
                              columns=["package", "version"]), hide_index=True, key="rp_pkgs")
    st.download_button("Download results.json",
                       json.dumps(data.results(url, run_id).model_dump(mode="json"), indent=2),
                       file_name=f"{run_id}-results.json", mime="application/json",
                       key="rp_download")
