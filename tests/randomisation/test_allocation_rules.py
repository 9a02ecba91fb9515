"""The allocation-list generator and CSV reader, without the database."""

from __future__ import annotations

from collections import Counter

import pytest

from randomisation.allocation import (
    AllocationListError,
    generate_list,
    generate_stratum,
    parse_csv,
    to_csv,
)


def test_the_same_seed_gives_the_same_list():
    a = generate_list(seed=42, sites=["SMR", "TAS"], per_stratum=40, block_sizes=[2, 4, 6])
    b = generate_list(seed=42, sites=["TAS", "SMR"], per_stratum=40, block_sizes=[2, 4, 6])
    assert a == b


def test_another_seed_gives_another_list():
    a = generate_list(seed=1, sites=["SMR"], per_stratum=40, block_sizes=[2, 4, 6])
    b = generate_list(seed=2, sites=["SMR"], per_stratum=40, block_sizes=[2, 4, 6])
    assert [s.arm for s in a] != [s.arm for s in b]


def test_adding_a_site_does_not_change_another_sites_sequence():
    alone = generate_list(seed=5, sites=["SMR"], per_stratum=20, block_sizes=[4])
    together = generate_list(seed=5, sites=["SMR", "TAS"], per_stratum=20, block_sizes=[4])
    assert [s for s in together if s.site == "SMR"] == alone


def test_one_stratum_per_site_and_b12_status():
    slots = generate_list(seed=3, sites=["SMR", "TAS"], per_stratum=10, block_sizes=[2, 4])
    assert {s.stratum for s in slots} == {
        ("SMR", True),
        ("SMR", False),
        ("TAS", True),
        ("TAS", False),
    }


@pytest.mark.parametrize("seed", range(20))
def test_blocks_have_the_asked_sizes_and_balance_at_every_block_end(seed):
    slots = generate_stratum(
        seed=seed, site="SMR", b12_deficient=False, per_stratum=50, block_sizes=[2, 4, 6]
    )
    assert len(slots) >= 50
    assert [s.sequence for s in slots] == list(range(1, len(slots) + 1))
    blocks: dict[int, list] = {}
    for slot in slots:
        blocks.setdefault(slot.block, []).append(slot)
    for members in blocks.values():
        size = members[0].block_size
        assert size in {2, 4, 6}
        assert len(members) == size
        assert Counter(s.arm for s in members) == {"standard": size // 2, "b12": size // 2}
    # running balance is exact at each block end
    diff = 0
    for slot in slots:
        diff += 1 if slot.arm == "b12" else -1
        if slot is blocks[slot.block][-1]:
            assert diff == 0


def test_block_sizes_are_drawn_at_random_not_all_the_same():
    slots = generate_stratum(
        seed=11, site="SMR", b12_deficient=True, per_stratum=200, block_sizes=[2, 4, 6]
    )
    assert {s.block_size for s in slots} == {2, 4, 6}


@pytest.mark.parametrize("sizes", [[3], [0], [-2], []])
def test_odd_zero_or_missing_block_sizes_are_refused(sizes):
    with pytest.raises(AllocationListError, match="block sizes"):
        generate_stratum(seed=1, site="SMR", b12_deficient=True, per_stratum=10, block_sizes=sizes)


def test_csv_round_trip():
    slots = generate_list(seed=9, sites=["SMR", "TAS"], per_stratum=12, block_sizes=[2, 4])
    assert parse_csv(to_csv(slots), known_sites=["SMR", "TAS"]) == slots


def test_a_malformed_csv_is_rejected_with_every_row_named():
    text = (
        "site,b12_deficient,sequence,block,block_size,arm\n"
        "SMR,1,1,1,2,b12\n"
        "XXX,1,2,1,2,standard\n"
        "SMR,2,3,1,2,standard\n"
        "SMR,1,4,1,2,placebo\n"
    )
    with pytest.raises(AllocationListError) as caught:
        parse_csv(text, known_sites=["SMR"])
    errors = caught.value.errors
    assert any(e.startswith("row 3: site") for e in errors)
    assert any(e.startswith("row 4: b12_deficient") for e in errors)
    assert any(e.startswith("row 5: arm") for e in errors)


def test_gaps_in_a_sequence_are_rejected():
    text = (
        "site,b12_deficient,sequence,block,block_size,arm\nSMR,1,1,1,2,b12\nSMR,1,3,1,2,standard\n"
    )
    with pytest.raises(AllocationListError, match="without gaps"):
        parse_csv(text, known_sites=["SMR"])


def test_a_wrong_header_is_rejected():
    with pytest.raises(AllocationListError, match="header"):
        parse_csv("a,b\n1,2\n", known_sites=["SMR"])
