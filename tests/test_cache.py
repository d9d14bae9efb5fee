"""Pruning the match cache: what the manifest uses stays, everything else goes, bytes counted."""

from neowise_lightcurves import cache, manifest


def test_prune_keeps_what_the_manifest_uses(tmp_path):
    shards = [
        manifest.Shard("k2_1", "aaaaaaaaaaaa", 3, (1,)),
        manifest.Shard("k5_7", "bbbbbbbbbbbb", 1, (7,)),
    ]
    used = cache.used_names(shards, "1", ["year1", "year2"])
    assert cache.cache_name("1", "year1", "k2_1", "aaaaaaaaaaaa") in used and len(used) == 4
    files = {}
    for name in [
        *used,
        "r1/year1/k2_1-cccccccccccc.parquet",  # an earlier target list
        "r2.5/year1/k2_1-aaaaaaaaaaaa.parquet",  # an earlier radius
        "r1/year3/k2_1-aaaaaaaaaaaa.parquet",  # a year no longer configured
        "r1/year1/.tmp-k2_1-aaaaaaaaaaaa.parquet-x.parquet",  # a killed writer's
    ]:
        for folder, suffix in cache.CACHE_FOLDERS.items():
            path = tmp_path / folder / (name.removesuffix(".parquet") + suffix)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"x" * 10)
            files[path] = name
    (tmp_path / "cache" / "notes.txt").write_text("mine")  # not a cache file: left alone
    pruned = cache.prune(tmp_path, used)
    gone = {p for p, name in files.items() if name not in used}
    assert set(pruned.files) == gone and pruned.bytes == 10 * len(gone) and pruned.kept == 4
    assert all(not p.exists() for p in gone)
    assert all(p.exists() for p, name in files.items() if name in used)
    assert (tmp_path / "cache" / "notes.txt").exists()
    assert not (tmp_path / "cache" / "r2.5").exists()  # emptied folders go too
    assert cache.prune(tmp_path, used).files == []


def test_the_cache_rules_are_the_workflow_s():
    """cache.CACHE_RULES (whose logs and records prune() removes, and costs counts) are rules
    of the workflow, writing cache.MATCH_FILE / COLUMNS_FILE names."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "workflow/rules/match.smk").read_text()
    for rule in cache.CACHE_RULES:
        assert f"\nrule {rule}:\n" in text, rule
    assert "{MATCH_FILE}" in text and "{COLUMNS_FILE}" in text and "{MEP_FILE}" in text


def test_every_rule_name_is_the_workflow_s():
    """The rule names the package spells (the cache rules, the rules run once, the demo's, the
    light curves') are rules of the workflow, and costs.smk takes its list from them."""
    import re
    from pathlib import Path

    rules_dir = Path(__file__).resolve().parents[1] / "workflow/rules"
    text = "".join(p.read_text() for p in sorted(rules_dir.glob("*.smk")))
    rules = set(re.findall(r"^(?:rule|checkpoint) (\w+):$", text, re.MULTILINE))
    named = {*cache.CACHE_RULES, *cache.ONCE_RULES, cache.LIGHTCURVES_RULE}
    named |= {cache.DEMO_TARGETS_RULE, cache.DEMO_MEP_RULE, cache.DEMO_YEAR_RULE}
    named.add(cache.ONE_JOB_RULE)
    assert named <= rules, named - rules
    assert cache.once_rules(True, False) == ["demo_targets", *cache.ONCE_RULES]
    assert cache.once_rules(False, True) == ["demo_allwise", *cache.ONCE_RULES]
    assert cache.once_rules(True, False, one_job=True) == ["demo_targets", "one_job"]
    costs_rule = (rules_dir / "costs.smk").read_text()
    assert "nl_cache.once_rules(" in costs_rule
    assert not any(f'"{rule}"' in costs_rule for rule in named)
