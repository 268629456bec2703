from __future__ import annotations

import pytest

from eval_anything.errors import ConfigError
from eval_anything.run.runner import parse_shard, resolve_shard


def test_shard_auto_reads_launcher_rank(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RANK", "2")
    monkeypatch.setenv("WORLD_SIZE", "4")
    assert resolve_shard("auto") == "2/4"
    monkeypatch.setenv("WORLD_SIZE", "1")
    assert resolve_shard("auto") is None
    assert resolve_shard("1/3") == "1/3"


@pytest.mark.parametrize("bad", ["3/3", "x", "1/0", "-1/2"])
def test_bad_shard_is_refused(bad: str) -> None:
    with pytest.raises(ConfigError, match="--shard"):
        parse_shard(bad)


def test_model_args_parsing() -> None:
    from eval_anything.model_args import public_args, split_model_args, typed_model_args

    class OpenAdapter:  # takes any keyword: values are read untyped (bool, int, float, str)
        def __init__(self, **kwargs: object) -> None: ...

    def parse_model_args(text: str) -> dict[str, object]:
        return typed_model_args(OpenAdapter, split_model_args(text))

    args = parse_model_args("pretrained=/m,dtype=float32,batch_size=4,x=1.5,flag=true,api_key=s")
    assert args == {"pretrained": "/m", "dtype": "float32", "batch_size": 4, "x": 1.5,
                    "flag": True, "api_key": "s"}
    assert "api_key" not in public_args(args)
    with pytest.raises(ValueError, match="key=value"):
        parse_model_args("pretrained")
