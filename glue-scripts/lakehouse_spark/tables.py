"""The tables of the zones, by name: where a table lives within its zone URI (the Delta path) and its name in
the Glue database (the names CDK gives the tables, so consumers query the same names whatever the format)."""

from __future__ import annotations

from dataclasses import dataclass

from .layout import table_uri, unreadable_files_uri


@dataclass(frozen=True)
class Table:
    """A table of a zone: `name` within the zone URI (the Delta path), `catalog_name` in the Glue database
    (the names CDK gives the Delta tables, so consumers query the same names whatever the format)."""

    zone_uri: str
    name: str
    catalog_name: str

    @property
    def path(self) -> str:
        return table_uri(self.zone_uri, self.name)


def curated_table(curated_uri: str, dataset: str) -> Table:
    return Table(curated_uri, dataset, f"curated_{dataset}")


def quarantine_table(quarantine_uri: str, dataset: str) -> Table:
    return Table(quarantine_uri, dataset, f"quarantine_curated_{dataset}")


def unreadable_files_table(quarantine_uri: str, dataset: str) -> Table:
    return Table(unreadable_files_uri(quarantine_uri), dataset, f"quarantine_unreadable_files_{dataset}")


def gold_table(gold_uri: str, name: str) -> Table:
    return Table(gold_uri, name, name)
