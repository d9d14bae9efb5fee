"""Rule targets: read, validate and store the target list."""

from neowise_lightcurves import atomic, logs, targets

log = logs.to_file(snakemake.log[0])
cfg = snakemake.params.targets
if cfg["source"] == "vizier":
    v = cfg.get("vizier", {})
    frame = targets.query_vizier(
        v.get("tap_url", targets.VIZIER_TAP_URL),
        v.get("table", targets.VIZIER_TABLE),
        v.get("columns", targets.VIZIER_COLUMNS),
        v.get("row_limit"),
    )
else:
    frame = targets.read_table(snakemake.input[0])
table = targets.normalize(
    frame,
    id_column=cfg.get("id_column"),
    ra_column=cfg.get("ra_column"),
    dec_column=cfg.get("dec_column"),
    duplicate_ids=cfg.get("duplicate_ids", "reject"),
    sexagesimal=cfg.get("sexagesimal", False),
)
atomic.write_frame(table, snakemake.output[0])
log.info("%d targets -> %s", len(table), snakemake.output[0])
