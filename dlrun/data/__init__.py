"""Data sources, one file per kind of source; `dlrun.data.splits` turns any of them into tensors."""
