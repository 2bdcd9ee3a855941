"""The run directory and what guards it: its files written whole (files, atomic), what makes two
runs the same run (identity), continuing a run from its checkpoint (resume), the resolvers
that name a run's directory (resolvers), the checks before anything is written (guard, lock) and
where metrics go besides the CSV files (logger: TensorBoard, MLflow).

Importing this package imports nothing heavy: `dlrun` registers the resolvers at every start.
"""
