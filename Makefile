# Two commands set everything up on a fresh machine (Python >= 3.11 with venv and pip):
#   make demo   installs into .venv and runs the workflow on the built-in demo sky
#   make test   installs into .venv (with the test tools and the SLURM plugin, for the SLURM
#               test) and runs the tests
#   make explore  serves the explorer over results/ (docs/explorer.md)
PYTHON ?= python3
VENV ?= .venv
CORES ?= 2

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[workflow,test]'
	touch $@

$(VENV)/.installed-slurm: $(VENV)/.installed
	$(VENV)/bin/python -m pip install --quiet -e '.[workflow,test,slurm]'
	touch $@

.PHONY: install demo test report clean explore
install: $(VENV)/.installed

demo: $(VENV)/.installed
	$(VENV)/bin/snakemake --cores $(CORES) --config periods='{enabled: true}' catalog='{allwise_mep: {enabled: true}}'

report: $(VENV)/.installed
	$(VENV)/bin/snakemake --cores $(CORES) --report report.html --config periods='{enabled: true}' catalog='{allwise_mep: {enabled: true}}'

test: $(VENV)/.installed-slurm
	$(VENV)/bin/python -m pytest

explore: $(VENV)/.installed
	$(VENV)/bin/neowise-lightcurves explore results

clean:
	rm -rf results report.html .snakemake
