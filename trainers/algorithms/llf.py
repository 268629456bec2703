"""``train llf``: learning from language feedback.

Stages, each writing JSONL under the work dir (default ``output_dir/llf``) as it goes:

1. ``sample``   the policy answers every prompt              -> responses.jsonl
2. ``critique`` the critic (any adapter, role ``critic``) critiques each answer with
                refinement suggestions (``llf.critique_template``) -> critiques.jsonl
3. ``refine``   the policy rewrites its answer given the critique  -> refinements.jsonl
4. ``pairs``    (refinement chosen, original rejected)            -> pairs.jsonl
5. ``dpo``      DPO on the pairs (the ``dpo`` and ``training`` sections), auto-scored

Media ride along: a prompt row's image, audio or video (any align-anything layout) is given to
the policy when it samples and when it refines, and to the critic with the answer it critiques;
the pairs keep them, and DPO trains the same model on them. Before anything is written, the
policy, the critic and the trained model are checked to take every modality the prompts carry
(exit 2 naming the row, field and modality otherwise).

A rerun resumes: rows already written are kept (each row stores the sha256 of what it was made
from, so a row whose input changed is redone), finished stages are skipped, and the DPO stage
continues from its last checkpoint. ``state.json`` records each stage's settings; changing a
template or a binding after a stage ran is refused with the file to delete.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eval_anything.core.content import TextPart
from eval_anything.core.requests import GenerateRequest, GenerationConfig
from eval_anything.core.results_files import atomic_write_text
from eval_anything.models.base import ModelAdapter
from eval_anything.progress import ProgressReporter
from eval_anything.trainers.algorithms.llf_files import (
    FILES,
    Prompt,
    StageFile,
    load_prompts,
    render,
    sha,
)
from eval_anything.trainers.config import (
    ConfigError,
    RoleBinding,
    TrainConfig,
)

log = logging.getLogger(__name__)

STAGES = ("sample", "critique", "refine", "pairs", "dpo")


@dataclass
class LLFOutcome:
    workdir: Path
    counts: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    train: Any = None


class LLFPipeline:
    """The five stages over one config; adapters are built lazily and closed before DPO."""

    def __init__(
        self, cfg: TrainConfig, policy: ModelAdapter | None = None,
        critic: ModelAdapter | None = None, callbacks: list[Any] | None = None,
        progress: bool = True,
    ) -> None:
        if cfg.llf is None:
            raise ConfigError(f"{cfg.where()}: field 'llf' is required for 'train llf'")
        self.cfg = cfg
        self.llf = cfg.llf
        self.workdir = Path(self.llf.workdir) if self.llf.workdir else cfg.output_dir / "llf"
        self._policy, self._critic = policy, critic
        self.callbacks = callbacks
        self.state_path = self.workdir / "state.json"
        self.state: dict[str, Any] = (
            json.loads(self.state_path.read_text(encoding="utf-8"))
            if self.state_path.exists() else {}
        )
        self.outcome = LLFOutcome(self.workdir)
        self.prompts: dict[str, Prompt] = {}
        self.progress = progress
        self._reporter: ProgressReporter | None = None

    def reporter(self) -> ProgressReporter:
        """One set of bars (stderr) for the stages of this run; a stage can take hours on a
        real critic, so each shows rows done, rate and time remaining."""
        if self._reporter is None:
            self._reporter = ProgressReporter(enabled=self.progress)
        return self._reporter

    # ------------------------------------------------------------------ bindings

    def policy_binding(self) -> RoleBinding:
        if self.llf.policy is not None:
            return self.llf.policy
        from eval_anything.trainers.setup.models import resolve_model_path

        path = resolve_model_path(self.cfg.model.path)
        return RoleBinding(model="hf", model_args={"pretrained": path})

    def _adapter(self, role: str) -> ModelAdapter:
        from eval_anything.models.build import build_adapter

        if role == "policy":
            if self._policy is None:
                b = self.policy_binding()
                self._policy = build_adapter(b.model, dict(b.model_args))
            return self._policy
        if self._critic is None:
            self._critic = build_adapter(self.llf.critic.model, dict(self.llf.critic.model_args))
        return self._critic

    def close_adapters(self) -> None:
        for a in (self._policy, self._critic):
            if a is not None:
                a.close()
        self._policy = self._critic = None

    # ------------------------------------------------------------------ state

    def settings_of(self, stage: str) -> str:
        """What decides a stage's rows besides their inputs."""
        llf = self.llf
        parts: dict[str, Any] = {"stage": stage}
        if stage in ("sample", "refine"):
            parts["policy"] = self.policy_binding().model_dump(mode="json")
            parts["gen"] = (llf.sample if stage == "sample" else llf.refine).model_dump()
        if stage == "critique":
            parts.update(critic=llf.critic.model_dump(mode="json"), gen=llf.critique.model_dump(),
                         template=llf.critique_template)
        if stage == "refine":
            parts["template"] = llf.refine_template
        return sha(json.dumps(parts, sort_keys=True, default=str))

    def check_settings(self, stage: str) -> None:
        old = self.state.get(stage, {}).get("settings")
        if old is not None and old != self.settings_of(stage):
            later = [FILES[s] for s in STAGES[STAGES.index(stage):] if s in FILES]
            raise ConfigError(
                f"{self.cfg.where()}: the llf settings of stage {stage!r} changed since "
                f"{self.workdir} was written; delete {', '.join(later)} and state.json there to "
                "redo it (or use a new llf.workdir)"
            )

    def mark(self, stage: str, complete: bool, n: int) -> None:
        entry = {"settings": self.settings_of(stage) if stage in FILES else None,
                 "complete": complete, "n": n}
        self.state[stage] = entry
        atomic_write_text(self.state_path, json.dumps(self.state, indent=2))

    # ------------------------------------------------------------------ stages

    def generate_stage(
        self, stage: str, role: str, gen: GenerationConfig,
        todo: list[tuple[str, str, str]],  # (id, request text, input hash)
        make_row: Callable[[str, str, str], dict[str, Any]],
    ) -> StageFile:
        """Run one generation stage over the rows not yet (validly) done."""
        self.check_settings(stage)
        out = StageFile(self.workdir / FILES[stage])
        missing = [t for t in todo if out.rows.get(t[0], {}).get("input_sha") != t[2]]
        if not missing:
            log.info("llf stage %s: %d rows already done", stage, len(todo))
        failures = 0
        cfg_gen = gen
        size = max(1, self.llf.batch_size)
        bar = self.reporter().task(f"llf {stage}", total=len(todo),
                                   completed=len(todo) - len(missing))
        for start in range(0, len(missing), size):
            batch = missing[start : start + size]
            adapter = self._adapter(role)
            requests = [
                GenerateRequest.from_parts([*self.prompts[rid].parts, TextPart(text=text)],
                                           gen=cfg_gen)
                for rid, text, _ in batch
            ]
            outputs = adapter.generate(requests)
            rows = []
            for (rid, _, input_sha), o in zip(batch, outputs, strict=True):
                if o.error or not o.text.strip():
                    failures += 1
                    log.warning("llf stage %s: row %s failed: %s", stage, rid, o.error or "empty")
                    continue
                rows.append(make_row(rid, o.text.strip(), input_sha))
            out.append(rows)
            bar.advance(len(batch))
        done = sum(1 for t in todo if out.rows.get(t[0], {}).get("input_sha") == t[2])
        self.outcome.counts[stage] = done
        self.outcome.failures[stage] = failures
        self.mark(stage, complete=failures == 0, n=done)
        return out

    def check_inputs(self, prompts: list[Prompt]) -> None:
        """Before anything is written: the policy, the critic and the model DPO trains must each
        take every modality the prompts carry (else exit 2 naming row, field and modality)."""
        import jinja2
        from jinja2.sandbox import SandboxedEnvironment

        from eval_anything.trainers.setup.models import check_media, load_tokenizer
        from eval_anything.trainers.setup.trainer_build import check_autoscore

        for name in ("critique_template", "refine_template"):
            try:
                SandboxedEnvironment().from_string(getattr(self.llf, name))
            except jinja2.TemplateError as e:
                raise ConfigError(
                    f"{self.cfg.where()}: field 'llf.{name}': not a valid Jinja template: {e}"
                ) from None
        check_autoscore(self.cfg)
        with_media = [p for p in prompts if p.media]
        if not with_media:
            return
        for role in ("policy", "critic"):
            accepted = tuple(self._adapter(role).input_modalities)
            for p in with_media:
                for m in p.media:
                    if m.modality not in accepted:
                        binding = (self.policy_binding() if role == "policy"
                                   else self.llf.critic)
                        raise ConfigError(
                            f"{p.source}: field {m.field!r} holds {m.modality}, but the llf "
                            f"{role} ({binding.model}:{binding.model_args}) takes only "
                            f"{', '.join(accepted)}; bind a {role} that takes {m.modality}, or "
                            "remove the field from the data"
                        )
        from eval_anything.trainers.data.examples import Completion

        check_media(self.cfg, [Completion(p.text, "", media=p.media, source=p.source)
                               for p in with_media], load_tokenizer(self.cfg))

    def run(self, until: str | None = None) -> LLFOutcome:
        from eval_anything.trainers.setup.output_folder import hold_output_dir

        if until is not None and until not in STAGES:
            raise ConfigError(f"--until {until!r}: choose one of {', '.join(STAGES)}")
        last = STAGES.index(until) if until else len(STAGES) - 1
        listed = load_prompts(self.cfg)
        self.prompts = {p.id: p for p in listed}
        self.check_inputs(listed)
        hold_output_dir(self.cfg)
        prompts = {p.id: p.text for p in listed}
        responses = self.generate_stage(
            "sample", "policy", self.llf.sample,
            [(i, p.text, p.key(p.text)) for i, p in self.prompts.items()],
            lambda i, text, h: {"id": i, "prompt": prompts[i], "response": text, "input_sha": h},
        ).rows
        if last < 1:
            return self._finish()
        crit_in = {i: render(self.llf.critique_template, prompt=prompts[i],
                             response=r["response"]) for i, r in responses.items() if i in prompts}
        critiques = self.generate_stage(
            "critique", "critic", self.llf.critique,
            [(i, text, self.prompts[i].key(text)) for i, text in crit_in.items()],
            lambda i, text, h: {"id": i, "critique": text, "input_sha": h},
        ).rows
        if last < 2:
            return self._finish()
        ref_in = {
            i: render(self.llf.refine_template, prompt=prompts[i],
                      response=responses[i]["response"], critique=c["critique"])
            for i, c in critiques.items() if i in responses and i in crit_in
            and c.get("input_sha") == self.prompts[i].key(crit_in[i])
        }
        refinements = self.generate_stage(
            "refine", "policy", self.llf.refine,
            [(i, text, self.prompts[i].key(text)) for i, text in ref_in.items()],
            lambda i, text, h: {"id": i, "refinement": text, "input_sha": h},
        ).rows
        self.close_adapters()
        if last < 3:
            return self._finish()
        pairs = self.pairs_stage(prompts, responses, refinements, ref_in)
        self.close_reporter()  # the trainer prints its own progress from here
        if last < 4:
            return self._finish()
        self.outcome.train = self.dpo_stage(pairs)
        return self._finish()

    def pairs_stage(
        self, prompts: dict[str, str], responses: dict[str, Any], refinements: dict[str, Any],
        ref_in: dict[str, str],
    ) -> list[Any]:
        """(refinement chosen, original rejected), media kept; a refinement equal to the
        original is dropped."""
        from eval_anything.trainers.data.examples import Pair

        rows, pairs, same = [], [], 0
        bar = self.reporter().task("llf pairs", total=len(prompts))
        for i in prompts:
            bar.advance(1)
            ref = refinements.get(i)
            p = self.prompts[i]
            if ref is None or i not in ref_in or ref.get("input_sha") != p.key(ref_in[i]):
                continue
            original = responses[i]["response"]
            if " ".join(ref["refinement"].split()) == " ".join(original.split()):
                same += 1
                continue
            row = {"id": i, "prompt": prompts[i], "chosen": ref["refinement"],
                   "rejected": original}
            if p.media:
                row["media"] = [m.to_json() for m in p.media]
            rows.append(row)
            pairs.append(Pair(prompts[i], ref["refinement"], original, media=list(p.media),
                              source=p.source))
        atomic_write_text(self.workdir / FILES["pairs"],
                          "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
        self.outcome.counts["pairs"] = len(rows)
        if same:
            self.outcome.skipped["pairs"] = f"{same} refinements equal to their original dropped"
        self.mark("pairs", complete=True, n=len(rows))
        return pairs

    def dpo_stage(self, pairs: list[Any]) -> Any:
        from eval_anything.trainers.algorithms.dpo import train_dpo

        if self.state.get("dpo", {}).get("complete"):
            self.outcome.skipped["dpo"] = "already trained"
            return None
        if not pairs:
            raise ConfigError(f"{self.workdir}: the llf pairs stage produced no pairs to train on")
        resume = any(self.cfg.output_dir.glob("checkpoint-*"))
        resume = resume or self.cfg.training.resume
        training = self.cfg.training.model_copy(update={"resume": resume})
        cfg = self.cfg.model_copy(update={"training": training})
        result = train_dpo(cfg, pairs, self.callbacks)
        self.mark("dpo", complete=True, n=result.global_step)
        return result

    def close_reporter(self) -> None:
        if self._reporter is not None:
            self._reporter.close()
            self._reporter = None

    def _finish(self) -> LLFOutcome:
        self.close_adapters()
        self.close_reporter()
        return self.outcome


def train_llf(
    cfg: TrainConfig, policy: ModelAdapter | None = None, critic: ModelAdapter | None = None,
    until: str | None = None, callbacks: list[Any] | None = None, progress: bool = True,
) -> LLFOutcome:
    """Run (or resume) the LLF stages up to ``until`` (default: all, DPO included); progress
    bars per stage on stderr unless ``progress`` is False."""
    from eval_anything.trainers.setup.output_folder import lock_scope

    with lock_scope():
        pipeline = LLFPipeline(cfg, policy, critic, callbacks, progress=progress)
        try:
            return pipeline.run(until)
        finally:
            pipeline.close_reporter()  # a failed stage leaves no live display behind
