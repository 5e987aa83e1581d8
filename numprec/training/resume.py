"""resume.pkl: everything a run needs to continue bit-identically from a checkpoint.

Parameters (the master weights), the optimizer state, the loss scaler's state, every random
stream (parameter-initialisation/dropout generator, the stochastic-rounding counter, the batch
order with its position), the metrics so far and the monitor's tables. Written atomically with
each checkpoint. It is a pickle: load only run directories you made (it can run code when
loaded, as any pickle can).
"""
from __future__ import annotations

import os
import pickle

from ..amp import GradScaler, StaticLossScaler
from ..atomic import atomic_write

RESUME_FILE = "resume.pkl"
RESUME_VERSION = 1


def save_resume(directory: str, state: dict) -> str:
    payload = dict(state, version=RESUME_VERSION)

    def write(tmp):
        with open(tmp, "wb") as handle:
            pickle.dump(payload, handle, protocol=pickle.HIGHEST_PROTOCOL)
    return atomic_write(os.path.join(directory, RESUME_FILE), write)


def load_resume(directory: str) -> dict:
    path = os.path.join(directory, RESUME_FILE)
    if not os.path.isfile(path):
        raise ValueError(f"{directory!r} has no {RESUME_FILE}: the run wrote no checkpoint yet "
                         "(nothing to resume; start it again)")
    try:
        with open(path, "rb") as handle:
            state = pickle.load(handle)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError) as error:
        raise ValueError(f"{path!r} is corrupt ({type(error).__name__})") from None
    if not isinstance(state, dict) or state.get("version") != RESUME_VERSION:
        raise ValueError(f"{path!r} is not a numprec resume file of version {RESUME_VERSION}")
    return state


def scaler_state(scaler):
    """A loss scaler's state (None without one)."""
    if scaler is None:
        return None
    if isinstance(scaler, GradScaler):
        return {"kind": "dynamic", "state": scaler.state_dict()}
    if isinstance(scaler, StaticLossScaler):
        return {"kind": "static", "scale": scaler.get_scale(),
                "skipped_steps": scaler.skipped_steps}
    raise TypeError(f"cannot checkpoint a {type(scaler).__name__}")


def load_scaler_state(scaler, state) -> None:
    if (scaler is None) != (state is None):
        raise ValueError("the resume file's loss scaler does not match the run's config")
    if scaler is None:
        return
    if isinstance(scaler, GradScaler) and state["kind"] == "dynamic":
        scaler.load_state_dict(state["state"])
    elif isinstance(scaler, StaticLossScaler) and state["kind"] == "static":
        scaler.update(new_scale=state["scale"])
        scaler.skipped_steps = state["skipped_steps"]
    else:
        raise ValueError("the resume file's loss scaler does not match the run's config")


__all__ = ["RESUME_FILE", "save_resume", "load_resume", "scaler_state", "load_scaler_state"]
