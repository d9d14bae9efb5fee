"""Rule targets: read, validate and store the target list."""

from neowise_lightcurves import atomic, logs, targets

log = logs.to_file(snakemake.log[0])
cfg = snakemake.params.targets
if cfg["source"] == "vizier":
    v = cfg["vizier"]
    frame = targets.query_vizier(v["tap_url"], v["table"], v["columns"], v["row_limit"])
else:
    frame = targets.read_table(snakemake.input[0])
table = targets.normalize(
    frame,
    id_column=cfg["id_column"],
    ra_column=cfg["ra_column"],
    dec_column=cfg["dec_column"],
    duplicate_ids=cfg["duplicate_ids"],
    sexagesimal=cfg["sexagesimal"],
    proper_motion=snakemake.params.proper_motion,
    pmra_column=cfg["pmra_column"],
    pmdec_column=cfg["pmdec_column"],
    epoch_column=cfg["epoch_column"],
    pm_epoch=cfg["pm_epoch"],
)
atomic.write_frame(table, snakemake.output[0])
log.info("%d targets -> %s", len(table), snakemake.output[0])
