"""``utils.data_subset`` and ``utils.valid_split`` keep the very samples snnTorch's keep, in the same order."""

import numpy as np
import pytest
import snntorch.utils as theirs
import torch

from snnax_torchlike.snntorch import utils as ours

N = 23


class _Dataset:
    """torchvision's MNIST as far as these functions see it: samples in ``.data``, labels in ``.targets``."""

    def __init__(self, data, targets):
        self.data, self.targets = data, targets

    def __len__(self):
        return len(self.data)


def _torch_dataset():
    return _Dataset(torch.arange(N * 6, dtype=torch.uint8).reshape(N, 2, 3), torch.arange(N) % 4)


def _numpy_dataset():
    return _Dataset(np.arange(N * 6, dtype=np.uint8).reshape(N, 2, 3), np.arange(N) % 4)


def _assert_same(dataset, reference):
    assert type(dataset.data) is type(reference.data) and type(dataset.targets) is type(reference.targets)
    np.testing.assert_array_equal(np.asarray(dataset.data), np.asarray(reference.data))
    np.testing.assert_array_equal(np.asarray(dataset.targets), np.asarray(reference.targets))


@pytest.mark.parametrize("make", [_torch_dataset, _numpy_dataset], ids=["torch", "numpy"])
@pytest.mark.parametrize("subset, idx", [(1, 0), (5, 0), (5, 4), (4, 2), (23, 22)])
def test_data_subset_equals_snntorch(make, subset, idx):
    dataset = make()
    assert ours.data_subset(dataset, subset, idx) is dataset
    _assert_same(dataset, theirs.data_subset(make(), subset, idx))
    assert len(dataset) == N // subset


@pytest.mark.parametrize("make", [_torch_dataset, _numpy_dataset], ids=["torch", "numpy"])
@pytest.mark.parametrize("split, seed", [(0.1, 0), (0.3, 7), (0.0, 0), (1.0, 1)])
def test_valid_split_equals_snntorch(make, split, seed):
    train, val = ours.valid_split(make(), make(), split, seed=seed)
    train_ref, val_ref = theirs.valid_split(make(), make(), split, seed=seed)
    _assert_same(train, train_ref)
    _assert_same(val, val_ref)
    assert len(val) == int(N * split) and len(train) + len(val) == N


def test_lists_keep_their_type():
    dataset = _Dataset(np.arange(N), list(range(N)))  # e.g. CIFAR10 holds its targets in a list
    ours.data_subset(dataset, 4, 1)
    assert dataset.targets == list(range(5, 10))
    train, val = ours.valid_split(_Dataset(np.arange(N), list(range(N))), _Dataset(None, None), 0.25)
    assert isinstance(val.targets, list) and val.targets == sorted(val.targets) and len(val.targets) == 5
    assert sorted(train.targets + val.targets) == list(range(N))


def test_bad_arguments_are_refused_before_the_data_set_changes():
    dataset = _torch_dataset()
    refused = [(0, 0, "subset must be an int >= 1"), (2.5, 0, "subset"), (5, 5, r"idx must be an int in \[0, 5\)")]
    for subset, idx, match in refused + [(5, -1, "idx")]:
        with pytest.raises(ValueError, match=match):
            ours.data_subset(dataset, subset, idx)
    assert len(dataset) == N
    with pytest.raises(ValueError, match=r"split must be a fraction in \[0, 1\], got 1.5"):
        ours.valid_split(dataset, _torch_dataset(), 1.5)
    with pytest.raises(TypeError, match=r"ds_train must hold its samples in .data and .targets.*no .targets"):
        ours.valid_split(type("Images", (), {"data": np.zeros(3)})(), _torch_dataset(), 0.5)
    with pytest.raises(ValueError, match="dataset.data holds 23 samples but .targets 3"):
        ours.data_subset(_Dataset(np.zeros(N), np.zeros(3)), 2)
    assert len(dataset) == N
