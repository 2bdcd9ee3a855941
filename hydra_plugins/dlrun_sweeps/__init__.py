"""dlrun's Hydra plugins: the basic sweeper and launcher, composing a sweep's jobs once per
distinct set of config-group choices (dlrun.sweeps.job_configs). Selected in conf/config.yaml
as hydra/sweeper=dlrun_basic and hydra/launcher=dlrun_basic (conf/hydra/*/dlrun_basic.yaml).

Hydra finds plugins only inside the `hydra_plugins` namespace package (no __init__.py there)
and imports every module in it at start-up, so these modules import nothing heavy.
"""
