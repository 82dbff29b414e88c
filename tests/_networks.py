"""Networks several test files share."""

import jax.numpy as jnp

from snnax_torchlike import nn


class TutorialLoopNet(nn.Module):
    """snnTorch's tutorial style: a Python loop over time calling each layer per step, returning (spk, mem)."""

    def __init__(self, inputs: int, hidden: int, outputs: int, betas: tuple[float, float] = (0.9, 0.9)):
        super().__init__()
        self.fc1, self.lif1 = nn.Linear(inputs, hidden), nn.Leaky(beta=betas[0])
        self.fc2, self.lif2 = nn.Linear(hidden, outputs), nn.Leaky(beta=betas[1])

    def forward(self, x):
        mem1, mem2 = self.lif1.init_leaky(), self.lif2.init_leaky()
        spikes, mems = [], []
        for step in range(x.shape[0]):
            spk1, mem1 = self.lif1(self.fc1(x[step]), mem1)
            spk2, mem2 = self.lif2(self.fc2(spk1), mem2)
            spikes.append(spk2)
            mems.append(mem2)
        return jnp.stack(spikes), jnp.stack(mems)
