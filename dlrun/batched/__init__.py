"""repeats=K trained as one batched model (torch.func): fit.py stacks the seeds and trains them
(and says when it cannot: `refusal`), optim.py holds the SGD/Adam steps on stacked tensors,
run.py records each seed as dlrun.run records a run."""
