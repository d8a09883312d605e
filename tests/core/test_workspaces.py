
from core.workspaces import parse_workspaces
from tests import samples


def test_puhti_listing_matches_the_seed() -> None:
    listing = parse_workspaces(samples.workspaces("puhti").read_text())
    assert listing.problems == []
    assert len(listing.workspaces) == 7
    first = listing.workspaces[0]
    assert (first.path, first.used_capacity, first.max_capacity, first.used_files, first.max_files) == (
        "/users/csc", "2.2M", "10G", "37", "100K")
    assert first.max_capacity_bytes == 10 * 1024**3
    scratch = listing.workspaces[2]
    assert scratch.max_capacity == "1.0T" and scratch.max_files_count == 1_000_000


def test_mahti_lower_case_suffixes() -> None:
    listing = parse_workspaces(samples.workspaces("mahti").read_text())
    assert [w.used_files_count for w in listing.workspaces][:4] == [2420, 0, 0, 970]
    assert listing.workspaces[0].used_capacity_bytes == round(3.045 * 1024**3)


def test_broken_rows_are_reported_with_line_numbers() -> None:
    text = "Disk area  Capacity  Files\n/users/csc  2.2M/10G  37/100K  home\n/scratch/project_x  lots/1T  1/2\n"
    listing = parse_workspaces(text)
    assert len(listing.workspaces) == 1
    assert [p.line for p in listing.problems] == [3]
    assert "lots/1T" in listing.problems[0].message


def test_rows_keep_their_project() -> None:
    puhti = parse_workspaces("/projappl/project_csc          4.8G/50G          19K/100K  Ray experiments\n")
    assert puhti.workspaces[0].project == "Ray experiments"
    lumi = parse_workspaces("Quota for user csc\n  /users/csc   16M/22G   17/100K\nQuota for project project_462\n"
                            "  /scratch/project_462   1.2G/50T   412/2.0M\n")
    assert [w.project for w in lumi.workspaces] == ["personal", "project_462"]
