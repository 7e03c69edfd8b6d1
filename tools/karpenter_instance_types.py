"""Extract the instance-type catalog `substrate check` sizes pods against, from Karpenter's own
generated data, into substrate/engines/karpenter/instance_types.json.

Sources (aws/karpenter-provider-aws, read from a git snapshot: `fetch` github:aws/karpenter-
provider-aws, or any clone):
- `website/content/en/v1.14/reference/instance-types.md` at the v1.14.1 docs commit, generated
  by Karpenter from `ec2:DescribeInstanceTypes` (hack/docs/instancetypes_gen): per size, the
  labels Karpenter puts on the node and the resources it computes (allocatable cpu and memory
  after its default kube-reserved, eviction threshold and VM memory overhead; pods from the ENI
  limits; nvidia.com/gpu, aws.amazon.com/neuron, vpc.amazonaws.com/efa).
- `pkg/providers/pricing/zz_generated.pricing_aws.go` at tag v1.14.1: the on-demand prices
  Karpenter ships (us-east-1, the only region it generates) and orders launches by when the
  pricing API is unreachable.

Only the families of substrate.components.capacity.instance_families.FAMILIES (what a stack
may put in a pool).

    .venv/bin/python tools/karpenter_instance_types.py /work/.mirror/aws+karpenter-provider-aws/repo
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from substrate.components.capacity.instance_families import FAMILIES

REPO = "aws/karpenter-provider-aws"
DOCS_COMMIT = "1d927085dd81a9df9301e613f371dac5b4d16bfe"
DOCS_PATH = "website/content/en/v1.14/reference/instance-types.md"
PRICING_REF = "v1.14.1"
PRICING_PATH = "pkg/providers/pricing/zz_generated.pricing_aws.go"
PRICING_REGION = "us-east-1"
OUT = Path(__file__).resolve().parents[1] / "substrate/engines/karpenter/instance_types.json"


def show(git_dir: Path, ref: str, path: str) -> str:
    return subprocess.run(
        ["git", "--git-dir", str(git_dir), "show", f"{ref}:{path}"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def sizes(doc: str) -> dict[str, dict[str, dict[str, str]]]:
    """Instance type -> {"labels": {...}, "resources": {...}} from the reference's tables."""
    out: dict[str, dict[str, dict[str, str]]] = {}
    for block in re.split(r"^### ", doc, flags=re.M)[1:]:
        name = block.split("\n", 1)[0].strip().strip("`")
        tables: dict[str, dict[str, str]] = {"labels": {}, "resources": {}}
        section = ""
        for line in block.splitlines():
            if line.startswith("#### "):
                section = line[5:].strip().lower()
            row = re.match(r"^\s*\|([^|]+)\|([^|]+)\|\s*$", line)
            if row and section in tables and row.group(1).strip() not in {"Label", "Resource"}:
                key, value = row.group(1).strip(), row.group(2).strip()
                if not key.startswith("--"):
                    tables[section][key] = value
        out[name] = tables
    return out


def prices(go: str, region: str) -> dict[str, float]:
    body = go.split(f'"{region}": {{', 1)[1].split("\n\t},", 1)[0]
    return {t: float(p) for t, p in re.findall(r'"([a-z0-9.-]+)": ([0-9.]+)', body)}


def dump(data: dict[str, Any]) -> str:
    """JSON with one instance type a line (reviewable diffs when the reference changes)."""
    rows = [
        f"  {json.dumps(name)}: {json.dumps(t, sort_keys=True, separators=(',', ':'))}"
        for name, t in sorted(data["types"].items())
    ]
    source = json.dumps(data["source"], sort_keys=True)
    return '{"source": ' + source + ',\n "types": {\n' + ",\n".join(rows) + "\n }}\n"


def main() -> None:
    git_dir = Path(sys.argv[1])
    git_dir = git_dir / ".git" if (git_dir / ".git").exists() else git_dir
    found = sizes(show(git_dir, DOCS_COMMIT, DOCS_PATH))
    price = prices(show(git_dir, PRICING_REF, PRICING_PATH), PRICING_REGION)
    types = {}
    for name, tables in sorted(found.items()):
        family = tables["labels"].get("karpenter.k8s.aws/instance-family")
        if family not in FAMILIES:
            continue
        types[name] = {**tables, "onDemandPrice": price.get(name)}
    have = {t["labels"]["karpenter.k8s.aws/instance-family"] for t in types.values()}
    missing = sorted(set(FAMILIES) - have)
    if missing:
        raise SystemExit(f"no sizes in the reference for {', '.join(missing)}")
    data = {
        "source": {
            "repository": REPO,
            "instanceTypes": {"commit": DOCS_COMMIT, "path": DOCS_PATH},
            "prices": {"ref": PRICING_REF, "path": PRICING_PATH, "region": PRICING_REGION},
        },
        "types": types,
    }
    OUT.write_text(dump(data))
    print(f"{len(types)} instance types of {len(FAMILIES)} families -> {OUT}")


if __name__ == "__main__":
    main()
