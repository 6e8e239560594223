"""What martsmith has generated in a project: its models (found by `meta.martsmith`), where they
are, how many rows they hold and how many tests guard them."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from martsmith.context.warehouse import Warehouse, quote


@dataclass
class GeneratedModel:
    name: str
    path: str
    planner: str
    request: str
    rows: int | None  # None: not built
    data_tests: int
    unit_tests: int

    def as_dict(self) -> dict:
        return asdict(self)


def generated_models(ctx) -> list[GeneratedModel]:
    """Every model of the project whose properties carry `meta.martsmith`, in path order."""
    manifest = ctx.manifest
    tests_of: dict[str, int] = {}
    for node in manifest.nodes.values():
        if node.resource_type == "test":
            # A relationships test depends on both tables; it belongs to the one it is attached to.
            owners = [node.attached_node] if getattr(node, "attached_node", None) else node.depends_on.nodes
            for parent in owners:
                tests_of[parent] = tests_of.get(parent, 0) + 1
    units_of: dict[str, int] = {}
    for unit in getattr(manifest, "unit_tests", {}).values():
        units_of[unit.model] = units_of.get(unit.model, 0) + 1
    out = []
    with Warehouse(ctx.project) as wh:
        present = {(s.lower(), n.lower()) for s, n in wh.relations()}
        for node in manifest.nodes.values():
            meta = (node.config.meta or {}).get("martsmith") if node.resource_type == "model" else None
            if not meta or node.package_name != ctx.project.name:
                continue
            name = node.alias or node.name
            rows = None
            if (node.schema.lower(), name.lower()) in present:
                rows = int(wh.query(f"select count(*) from {quote(node.schema)}.{quote(name)}")[0][0])
            out.append(
                GeneratedModel(
                    name=node.name,
                    path=node.original_file_path,
                    planner=str(meta.get("planner", "")),
                    request=str(meta.get("request", "")),
                    rows=rows,
                    data_tests=tests_of.get(node.unique_id, 0),
                    unit_tests=units_of.get(node.name, 0),
                )
            )
    return sorted(out, key=lambda m: m.path)
