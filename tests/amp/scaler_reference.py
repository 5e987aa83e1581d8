"""An independent transcription of torch.amp.GradScaler's arithmetic in NumPy float32, used as
the oracle for numprec.amp.GradScaler (ATen's _amp_foreach_non_finite_check_and_unscale_ and
_amp_update_scale_ CPU kernels)."""
import numpy as np


class ReferenceScaler:
    def __init__(self, init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000):
        self.scale = np.float32(init_scale)
        self.tracker = 0
        self.growth, self.backoff, self.interval = growth_factor, backoff_factor, growth_interval

    def unscale(self, grads):
        """Returns (unscaled float32 grads, found_inf)."""
        inv = np.float32(1.0 / np.float64(self.scale))
        found = any(not np.all(np.isfinite(g)) for g in grads)
        if inv == np.float32(1.0):
            return [np.float32(g) for g in grads], found
        return [np.float32(g) * inv for g in grads], found

    def update(self, found_inf):
        if found_inf:
            self.scale = np.float32(np.float64(self.scale) * self.backoff)
            self.tracker = 0
            return
        successful = self.tracker + 1
        if successful == self.interval:
            with np.errstate(over="ignore"):  # a float32 overflow is the case under test
                grown = np.float32(np.float64(self.scale) * self.growth)
            if np.isfinite(grown):
                self.scale = grown
            self.tracker = 0
        else:
            self.tracker = successful
