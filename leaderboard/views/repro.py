"""Reproducibility: what produced a run (commit, dirty tree, packages, task fingerprints,
judges), and the run's results.json to download."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from eval_anything.leaderboard import data


def render(url: str) -> None:
    st.header("Reproducibility")
    runs = data.runs(url)
    run_id = st.selectbox("Run", list(runs["run_id"]), key="rp_run",
                          format_func=lambda rid: data.run_label(runs, rid))
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
    st.text(f"name: {d['model'].get('name')}  identity: {d['model'].get('identity')}")
    st.json(d["model"], expanded=False)
    st.subheader("Run spec")
    st.json(d["spec"], expanded=False)
    if d["lineage"]:
        st.subheader("Training lineage")
        st.json(d["lineage"])
    st.subheader("Tasks")
    st.dataframe(pd.DataFrame([
        {"task": t, "version": v["task_version"], "fingerprint": v["task_fingerprint"],
         "n": v["n"], "judges": "; ".join(
             f"{j['role']}={j['identity']} (template {str(j.get('template_hash'))[:12]})"
             for j in v["judges"]) or "-"}
        for t, v in d["tasks"].items()
    ]), hide_index=True, width="stretch", key="rp_tasks")
    st.subheader("Packages")
    st.dataframe(pd.DataFrame(sorted(env.get("packages", {}).items()),
                              columns=["package", "version"]), hide_index=True, key="rp_pkgs")
    st.download_button("Download results.json",
                       json.dumps(data.results(url, run_id).model_dump(mode="json"), indent=2),
                       file_name=f"{run_id}-results.json", mime="application/json",
                       key="rp_download")
