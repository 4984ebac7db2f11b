"""What the runner hands a notebook's kernel, through one environment variable."""

from __future__ import annotations

import dataclasses
import json
import os

RUN_CONTEXT_ENV_VAR = "CNN_COURSE_RUN_CONTEXT"


@dataclasses.dataclass(frozen=True)
class RunContext:
    """What the runner hands a notebook's kernel (one channel: an environment variable): the
    run's name, the folder to write (the run's own, or its staging folder when a complete run
    is being replaced), the notebook, and every checked parameter with defaults merged."""

    run_name: str
    run_dir: str
    notebook: str
    parameters: dict
    logs_dir: str

    def to_environment(self) -> dict[str, str]:
        return {RUN_CONTEXT_ENV_VAR: json.dumps(dataclasses.asdict(self))}

    @classmethod
    def from_environment(cls) -> RunContext | None:
        text = os.environ.get(RUN_CONTEXT_ENV_VAR)
        return cls(**json.loads(text)) if text else None
