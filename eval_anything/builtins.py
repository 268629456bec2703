"""The built-in components, by import path; the registry imports each only when asked for.
Data only: :mod:`eval_anything.registry` reads :data:`BUILTINS` the first time it is asked."""

BUILTINS: dict[str, dict[str, str]] = {
    "model": {
        "hf": "eval_anything.models.hf:HFModel",
        "smollm2": "eval_anything.models.smollm2:SmolLM2Model",
        "scripted": "eval_anything.models.scripted:ScriptedModel",
        "openai": "eval_anything.models.openai:OpenAIModel",
        "openai_image": "eval_anything.models.openai_generators:OpenAIImageGenerator",
        "openai_speech": "eval_anything.models.openai_generators:OpenAISpeechGenerator",
        "agent": "eval_anything.models.agent:AgentModel",
        "procedural": "eval_anything.models.procedural:ProceduralGenerator",
        "diffusers": "eval_anything.models.diffusers_gen:DiffusersGenerator",
        "tts": "eval_anything.models.text_to_audio:TextToAudioGenerator",
        "clip": "eval_anything.models.clip:ClipModel",
        "vllm": "eval_anything.models.vllm:VLLMModel",
    },
    "scorer": {
        "exact_match": "eval_anything.scoring.basic:ExactMatchScorer",
        "includes": "eval_anything.scoring.basic:IncludesScorer",
        "choice_accuracy": "eval_anything.scoring.basic:ChoiceAccuracyScorer",
        "amu_rating": "eval_anything.scoring.amu:AMURatingScorer",
        "instruction_following": "eval_anything.scoring.instruction_following:InstructionFollowingScorer",  # noqa: E501
        "modality_selection": "eval_anything.scoring.selection:ModalitySelectionScorer",
        "modality_synergy": "eval_anything.scoring.synergy:ModalitySynergyScorer",
        "pairwise_vs_reference": "eval_anything.scoring.pairwise:PairwiseVsReferenceScorer",
        "zero_shot": "eval_anything.scoring.contrastive:ZeroShotScorer",
        "retrieval": "eval_anything.scoring.contrastive:RetrievalScorer",
    },
    "metric": {
        "mean": "eval_anything.scoring.metrics:mean_metric",
        "mean_by": "eval_anything.scoring.metrics:mean_by_metric",
        "vote_share": "eval_anything.scoring.selection:vote_share_metric",
        "retrieval_recall": "eval_anything.scoring.contrastive:retrieval_recall_metric",
    },
    "aggregator": {
        "mean": "eval_anything.scoring.metrics:mean_aggregator",
        "s_amg": "eval_anything.scoring.s_amg:s_amg_aggregator",
        "collect": "eval_anything.scoring.s_amg:collect_aggregator",
        "overall": "eval_anything.scoring.s_amg:overall_aggregator",
    },
    "loader": {
        "sample": "eval_anything.spec.sources:sample_loader",
        "qa": "eval_anything.spec.sources:qa_loader",
        "eval_anything_amu": "eval_anything.formats.amu:amu_loader",
        "eval_anything_if": "eval_anything.formats.instruction_following:instruction_following_loader",  # noqa: E501
        "eval_anything_selection": "eval_anything.formats.selection_synergy:selection_loader",
    },
    "judge": {
        "smollm2": "eval_anything.judges.llm:smollm2_judge",
        "hf": "eval_anything.judges.llm:hf_judge",
        "openai": "eval_anything.judges.llm:openai_judge",
        "scripted": "eval_anything.judges.llm:scripted_judge",
        "model": "eval_anything.judges.llm:model_judge",
        "keyword": "eval_anything.judges.keyword:KeywordJudge",
        "minilm": "eval_anything.judges.embedding:EmbeddingJudge",
        "clip": "eval_anything.judges.clip:TransformersClipJudge",
        "open_clip": "eval_anything.judges.clip:OpenClipJudge",
        "reward": "eval_anything.judges.reward:RewardModelJudge",
        "analyzer": "eval_anything.judges.analyzer:AnalyzerJudge",
        "panel": "eval_anything.judges.panel:panel_judge",
        "repeats": "eval_anything.judges.panel:repeats_judge",
    },
    "tasks": {},
}
