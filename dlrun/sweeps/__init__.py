"""The Hydra glue of multiruns only: the callback that prints a sweep's status line and
tabulates it at its end (dlrun.sweeps.callback). Nothing below imports this package, and a
single run never passes through it."""
