"""The generated set's seed choice: it meets its quotas, in order, without looping forever."""

from __future__ import annotations

from collections import Counter

import pytest
from eval_sets import CLIPS, QUOTAS, SEED_RANGE, choose_seeds, kinds


@pytest.mark.parametrize("first", [723_918_016, SEED_RANGE[1] - 10_000])
def test_choose_seeds_meets_the_quotas_in_order(first: int) -> None:
    seeds = choose_seeds(first)
    assert len(seeds) == CLIPS
    assert seeds[0] == first and seeds == sorted(set(seeds))
    seen = Counter(k for seed in seeds for k in kinds(seed))
    for kind, least in QUOTAS.items():
        assert seen[kind] >= least, (kind, seen)
