"""The Hydra glue of dlrun: composing configs (a sweep's jobs once per set of group choices:
job_configs, used by the plugins in hydra_plugins/dlrun_sweeps), the output-directory resolver,
jobs (seeds, failures as results, resume) and the callback that checks a run before Hydra
writes anything and tabulates a sweep at its end.

Importing this package imports nothing heavy: `dlrun.record.identity` needs no torch.
"""
