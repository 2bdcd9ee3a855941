"""The Hydra glue of dlrun: composing configs, the output-directory resolver, jobs (seeds,
failures as results, resume) and the callback that checks a run before Hydra writes anything
and tabulates a sweep at its end.

Importing this package imports nothing heavy: `dlrun.sweeps.identity` needs no torch.
"""
