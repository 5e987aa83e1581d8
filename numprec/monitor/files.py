"""A monitor's files: tensors.parquet, exponents.parquet, and optionally TensorBoard events."""
from __future__ import annotations

import os

from ..atomic import atomic_write

TENSORS_FILE = "tensors.parquet"
EXPONENTS_FILE = "exponents.parquet"


def write_frame(frame, path) -> str:
    """A DataFrame as parquet, atomically."""
    return atomic_write(path, lambda tmp: frame.to_parquet(tmp, index=False))


def write_monitor_files(monitor, directory, tensorboard: bool = False) -> list:
    os.makedirs(directory, exist_ok=True)
    table, histograms = monitor.table(), monitor.histograms()
    paths = [write_frame(table, os.path.join(directory, TENSORS_FILE)),
             write_frame(histograms, os.path.join(directory, EXPONENTS_FILE))]
    if tensorboard:
        paths.append(write_tensorboard(table, histograms, os.path.join(directory,
                                                                       "tensorboard")))
    return paths


def write_tensorboard(table, histograms, log_dir) -> str:
    """Scalars `kind/layer.tensor/stat` and exponent histograms `kind/layer.tensor/exponent`
    (bucket b holds |x| in [2^b, 2^(b+1))) through tensorboardX (pip install tensorboardX)."""
    try:
        from tensorboardX import SummaryWriter
    except ImportError:
        raise RuntimeError("TensorBoard export needs tensorboardX: pip install tensorboardX "
                           "(or numprec[tensorboard])") from None
    writer = SummaryWriter(log_dir)
    try:
        for row in table.itertuples(index=False):
            name = f"{row.layer}.{row.tensor}" if row.layer else (row.tensor or "run")
            writer.add_scalar(f"{row.kind}/{name}/{row.stat}", row.value, int(row.step))
        for (step, layer, tensor, kind), group in histograms.groupby(
                ["step", "layer", "tensor", "kind"], sort=True):
            name = f"{layer}.{tensor}" if layer else tensor
            exponents = group["exponent"].to_numpy()
            counts = group["count"].to_numpy()
            limits = [2.0 ** (int(e) + 1) for e in exponents]
            total = float(counts.sum())
            writer.add_histogram_raw(
                f"{kind}/{name}/exponent", min=2.0 ** int(exponents.min()),
                max=2.0 ** (int(exponents.max()) + 1), num=total,
                sum=float((counts * 2.0 ** exponents.astype(float)).sum()),
                sum_squares=float((counts * 4.0 ** exponents.astype(float)).sum()),
                bucket_limits=limits, bucket_counts=counts.astype(float).tolist(),
                global_step=int(step))
    finally:
        writer.close()
    return log_dir


__all__ = ["TENSORS_FILE", "EXPONENTS_FILE", "write_frame", "write_monitor_files",
           "write_tensorboard"]
