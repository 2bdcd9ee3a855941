"""Model families; every network ends in the deep-GLM head of `dlrun.models.head`."""
