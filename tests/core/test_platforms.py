"""Platform of a run: from sacct's Cluster field, from the run name, and the order pages list platforms in."""

from __future__ import annotations

import pandas as pd

from core.platforms import platform_of_cluster, platform_of_frame, platform_of_name, platform_order


def test_cluster_names_map_to_known_platforms_or_other() -> None:
    assert platform_of_cluster("mahti") == "mahti"
    assert platform_of_cluster(" LUMI ") == "lumi"
    assert platform_of_cluster("alpine") == "other"
    assert platform_of_cluster("") is None and platform_of_cluster(None) is None


def test_frame_platform_is_the_most_common_cluster() -> None:
    frame = pd.DataFrame({"cluster": ["puhti", "puhti", None, "mahti"]})
    assert platform_of_frame(frame) == ("puhti", "puhti")
    assert platform_of_frame(pd.DataFrame({"cluster": [None, ""]})) == (None, None)
    assert platform_of_frame(pd.DataFrame({"job-id": ["1"]})) == (None, None)


def test_run_name_names_a_platform_only_as_a_word() -> None:
    assert platform_of_name("mahti-ray-2024-05", "other") == "mahti"
    assert platform_of_name("LUMI_finetune", "other") == "lumi"
    assert platform_of_name("puhtiish", "other") == "other"  # not the word "puhti"
    assert platform_of_name("sweep", "puhti") == "puhti"


def test_known_platforms_first_then_others_by_name() -> None:
    assert platform_order(["other", "lumi", "cedar", "puhti"]) == ["puhti", "lumi", "cedar", "other"]
