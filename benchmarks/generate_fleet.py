"""Generate a large, valid stack file for benchmarks: by default 12 Kubernetes clusters in 4 regions, 50 teams and
1,000 Flink jobs (900 application clusters and 25 session clusters with 4 session jobs each), with a realistic mix of
Flink versions, autoscaling modes and upgrade modes. Deterministic (seeded).

    python benchmarks/generate_fleet.py --out /tmp/Pulumi.fleet.yaml [--clusters 12 --teams 50 --jobs 1000]
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

import yaml

REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "ap-southeast-1", "eu-central-1", "ap-northeast-1")
SESSION_JOBS_PER_CLUSTER = 4


def generate(clusters: int = 12, teams: int = 50, jobs: int = 1000, seed: int = 7, environment: str = "prod") -> dict:
    if clusters < 1 or teams < 1 or jobs < 1:
        raise ValueError("clusters, teams and jobs must be at least 1")
    rng = random.Random(seed)
    region_count = min(len(REGIONS), max(1, (clusters + 2) // 3))
    regions = [{"name": REGIONS[r], "kubernetesClusters": []} for r in range(region_count)]
    kube_names = []
    for index in range(clusters):
        region = regions[index % region_count]
        name = f"{region['name'].replace('-', '')[:6]}-k{index:02d}"
        kube_names.append(name)
        region["kubernetesClusters"].append({
            "name": name,
            "context": f"arn:aws:eks:{region['name']}:111122223333:cluster/{name}",
            "wave": 0 if index == 0 else 1 + index % 3,
            "labels": {"tier": "canary" if index == 0 else "general"},
            "oidcProviderArn": f"arn:aws:iam::111122223333:oidc-provider/oidc.eks.{region['name']}.amazonaws.com/id/{index:032X}",
            "addons": {"keda": True},
        })
    team_list = [{
        "name": f"team{t:02d}",
        "egress": {"kafka": [{"cidr": f"10.{40 + t % 200}.0.0/16", "ports": [9096]}],
                   "s3Cidrs": ["10.0.128.0/20"], "kubernetesApiCidrs": ["10.0.0.0/20"]},
    } for t in range(teams)]

    flink_clusters = []
    session_clusters = min(jobs // (SESSION_JOBS_PER_CLUSTER * 10), 25)
    application_clusters = jobs - session_clusters * SESSION_JOBS_PER_CLUSTER
    for index in range(application_clusters):
        team = team_list[index % teams]["name"]
        kind = rng.random()
        version = rng.choice(("1.20", "1.20", "2.2"))
        cluster = {
            "name": f"job{index:04d}-{team}",
            "team": team,
            "flinkVersion": version,
            "jobManager": {"cpu": 1, "memory": "2048m"},
            "taskManager": {"cpu": 2, "memory": rng.choice(("2048m", "4096m", "4096m", "8192m")), "slots": 2},
            "job": {
                "jarURI": f"local:///opt/flink/usrlib/job{index:04d}-1.{index % 7}.0.jar",
                "entryClass": f"com.acme.{team}.Job{index:04d}",
                "parallelism": rng.choice((2, 4, 6, 8)),
                "upgradeMode": rng.choice(("savepoint", "last-state")),
            },
            "placement": {"clusters": [kube_names[index % clusters]]},
        }
        if cluster["taskManager"]["memory"] == "8192m":
            cluster["flinkConfiguration"] = {"taskmanager.memory.jvm-overhead.max": "2g"}
        if kind < 0.1:
            cluster["autoscaling"] = {"mode": "flink-autoscaler"}
        elif kind < 0.2:
            cluster["kafka"] = {"bootstrapServers": f"b-1.{team}.kafka.internal:9096", "topic": f"topic-{index}",
                                "partitions": 24, "consumerGroup": f"cg-{index}"}
            cluster["autoscaling"] = {"mode": "kafka-lag", "minReplicas": 1, "maxReplicas": 6, "lagThreshold": 100}
        elif kind < 0.3:
            cluster["autoscaling"] = {"mode": "cpu", "minReplicas": 1, "maxReplicas": 4}
        else:
            cluster["taskManager"]["replicas"] = cluster["job"]["parallelism"] // 2
        flink_clusters.append(cluster)
    for index in range(session_clusters):
        team = team_list[(index * 7) % teams]["name"]
        flink_clusters.append({
            "name": f"session{index:02d}-{team}",
            "team": team,
            "mode": "session",
            "flinkVersion": "1.20",
            "jobManager": {"cpu": 1, "memory": "2048m"},
            "taskManager": {"cpu": 2, "memory": "4096m", "slots": 2, "replicas": 4},
            "jobs": [{"name": f"sj{j}", "jarURI": f"https://repo.acme.example/flink/sj{index}-{j}.jar",
                      "parallelism": 2, "upgradeMode": "last-state"} for j in range(SESSION_JOBS_PER_CLUSTER)],
            "placement": {"clusters": [kube_names[(index * 5) % clusters]]},
        })
    return {"config": {
        "flink-platform:environment": environment,
        "flink-platform:regions": regions,
        "flink-platform:storage": {"bucketPrefix": "bench-flink"},
        "flink-platform:teams": team_list,
        "flink-platform:clusters": flink_clusters,
    }}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="stack file to write (e.g. /tmp/Pulumi.fleet.yaml)")
    parser.add_argument("--clusters", type=int, default=12, help="Kubernetes clusters (default 12)")
    parser.add_argument("--teams", type=int, default=50, help="teams (default 50)")
    parser.add_argument("--jobs", type=int, default=1000, help="Flink jobs (default 1000)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    try:
        document = generate(args.clusters, args.teams, args.jobs, args.seed)
    except ValueError as error:
        print(f"generate_fleet: {error}", file=sys.stderr)
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("# Generated by benchmarks/generate_fleet.py: do not edit.\n"
                        + yaml.safe_dump(document, sort_keys=False, width=120))
    clusters = document["config"]["flink-platform:clusters"]
    jobs = sum(1 if "job" in c else len(c["jobs"]) for c in clusters)
    print(f"wrote {args.out}: {args.clusters} Kubernetes clusters, {args.teams} teams, {len(clusters)} Flink clusters, "
          f"{jobs} Flink jobs", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
