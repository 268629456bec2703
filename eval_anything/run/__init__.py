"""Running an evaluation: planning, requests and their flow, the response cache, the runner,
resume and rescoring, shard merging, run folders and their lock, failures."""
