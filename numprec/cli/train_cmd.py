"""`numprec train`: train a small model on the 8x8 digits under a precision policy."""
from __future__ import annotations

import os
import sys
import time

HELP = ("train a small model under a precision policy (run.json, summary.json, metrics.parquet; "
        "--monitor adds tensors.parquet and exponents.parquet)")


def add_arguments(parser) -> None:
    parser.add_argument("--model", default="mlp", choices=("mlp", "cnn"),
                        help="mlp (64-256-10) or cnn (two conv layers); default mlp")
    parser.add_argument("--data", default="digits",
                        help="'digits' (8x8 digits) or a .npz with arrays images and labels")
    parser.add_argument("--policy", default="fp32",
                        help="preset (fp64, fp32, fp16, fp16-amp, bf16-amp, fp8-hybrid, "
                             "int8-qat, mxfp8, mxfp4, nvfp4) or a .toml/.json policy file; "
                             "default fp32")
    parser.add_argument("--steps", type=int, default=400, help="optimizer steps (default 400)")
    parser.add_argument("--seed", type=int, default=0, help="seed of every random draw (default 0)")
    parser.add_argument("--batch", type=int, default=32, help="batch size (default 32)")
    parser.add_argument("--lr", type=float, default=1e-3, help="learning rate (default 1e-3)")
    parser.add_argument("--optimizer", default="adam", choices=("adam", "adamw", "sgd"))
    parser.add_argument("--checkpoint-every", type=int, default=50,
                        help="write DIR/checkpoint.npz every N steps (default 50)")
    parser.add_argument("--loss-scale", default=None, metavar="S|dynamic|none",
                        help="override the policy's loss scaling: a static scale S, dynamic "
                             "(GradScaler) or none")
    parser.add_argument("--monitor", action="store_true",
                        help="record per-step, per-tensor statistics (numprec.monitor)")
    parser.add_argument("--monitor-every", type=int, default=1,
                        help="record every N-th step (default 1)")
    parser.add_argument("--whatif", default="", metavar="FMT,FMT",
                        help="with --monitor: formats to evaluate every tensor in "
                             "(e.g. e4m3,e5m2)")
    parser.add_argument("--shadow", choices=("re-anchored", "free"), default=None,
                        help="a float64 shadow: re-anchored (each op again in float64 on the "
                             "run's inputs) or free (a float64 twin trained in lockstep); "
                             "writes shadow.parquet")
    parser.add_argument("--adjust-precision", action="store_true",
                        help="promote a layer's matmul pass one format wider while its "
                             "gradients or outputs underflow or overflow, demote it once safe; "
                             "logs precision_switches.parquet (implies --monitor)")
    parser.add_argument("--adjust-underflow", type=float, default=0.01, metavar="FRAC",
                        help="underflow_frac that promotes a pass (default 0.01)")
    parser.add_argument("--adjust-overflow", type=float, default=0.0, metavar="FRAC",
                        help="overflow_frac + saturated_frac that promotes a pass (default 0: "
                             "any)")
    parser.add_argument("--adjust-patience", type=int, default=50, metavar="STEPS",
                        help="recorded steps a promoted pass stays safe (rates under half the "
                             "thresholds) before it goes back one format (default 50)")
    parser.add_argument("--adjust-shadow-error", type=float, default=0.01, metavar="ERR",
                        help="with --shadow: the float64 shadow's relative error of a layer's "
                             "matmul that promotes its pass in precision (default 0.01)")
    parser.add_argument("--out", help="output folder (the run directory); required unless "
                        "--resume")
    parser.add_argument("--resume", metavar="DIR",
                        help="continue the interrupted run in DIR from its last checkpoint, with "
                             "its own config (the other options are ignored)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def _dataset(spec: str, seed: int) -> dict:
    from ..data.digits import load_digits, load_npz, split_dataset
    if spec == "digits":
        return split_dataset(*load_digits(), seed=seed)
    if spec.lower().endswith(".npz"):
        if not os.path.isfile(spec):
            raise ValueError(f"data file {spec!r} does not exist")
        images, labels = load_npz(spec)
        return split_dataset(images, labels, seed=seed, n_train=int(len(images) * 0.8), scale=1.0)
    raise ValueError(f"unknown data {spec!r}; valid: digits, or a path to a .npz file")


def _resumed_config(directory: str):
    from ..training import TrainConfig
    from ..training.manifest import read_manifest
    manifest = read_manifest(directory)
    saved = dict(manifest["config"])
    saved["whatif"] = tuple(saved.get("whatif") or ())
    try:
        config = TrainConfig(**saved)
    except TypeError as error:
        raise ValueError(f"{directory!r}: its config does not fit this numprec ({error})") \
            from None
    return config, manifest.get("data") or "digits"


def run(args, out=None) -> int:
    from ..training import TrainConfig, TrainingStopped, train
    out = out or sys.stdout
    if args.resume:
        if args.out and os.path.abspath(args.out) != os.path.abspath(args.resume):
            raise ValueError("--resume continues the run in its own directory; drop --out")
        args.out = args.resume
        config, data_spec = _resumed_config(args.resume)
    else:
        if not args.out:
            raise ValueError("--out is required (or --resume DIR)")
        data_spec = args.data
        config = TrainConfig(model=args.model, policy=args.policy, steps=args.steps,
                             seed=args.seed, batch=args.batch, lr=args.lr,
                             optimizer=args.optimizer, checkpoint_every=args.checkpoint_every,
                             loss_scale=args.loss_scale, monitor=args.monitor,
                             monitor_every=args.monitor_every, shadow=args.shadow,
                             adjust_precision=args.adjust_precision,
                             adjust_underflow=args.adjust_underflow,
                             adjust_overflow=args.adjust_overflow,
                             adjust_patience=args.adjust_patience,
                             adjust_shadow_error=args.adjust_shadow_error,
                             whatif=tuple(f.strip() for f in args.whatif.split(",")
                                          if f.strip()))
        if config.whatif and not config.monitor:
            raise ValueError("--whatif needs --monitor (what-if statistics are monitor "
                             "statistics)")
    config.check()
    data = _dataset(data_spec, config.seed)
    if data["train_x"].shape[1] != 64:
        raise ValueError(f"the models take 64 features (8x8 images); {data_spec} has "
                         f"{data['train_x'].shape[1]}")
    start = time.perf_counter()
    try:
        summary = train(config, data, out=args.out, progress=not args.no_progress,
                        argv=getattr(args, "command_line", None), resume=bool(args.resume),
                        data_spec=data_spec)
    except TrainingStopped as stop:
        kept = stop.checkpoint or "none (no checkpoint had been written yet)"
        print(f"numprec: training stopped: {stop}; last good checkpoint: {kept}; partial "
              f"results in {args.out}", file=sys.stderr)
        return 1
    print(f"{summary['policy']}: {summary['steps']} steps in {time.perf_counter() - start:.1f} s, "
          f"final loss {summary['final_loss']:.4f}, test accuracy {summary['test_accuracy']:.4f}, "
          f"skipped steps {summary['skipped_steps']}, loss scale {summary['final_loss_scale']:g}; "
          f"wrote {os.path.join(args.out, 'summary.json')}", file=out)
    return 0
