"""The dataset commands: `stats` (images per split and emotion) and `shard` (TFRecord files to train from)."""

from core.cli.terminal import progress_bar, read_dataset, to_json
from core.emotions import EMOTIONS


def stats_command(args) -> int:
    from core.overview import split_counts

    dataset = read_dataset(args.data)
    report = {"splits": {name: {"total": sum(c.values()), "classes": c} for name, c in split_counts(dataset).items()},
              "converted": dataset.converted, "skipped": dataset.skipped, "warnings": dataset.warnings}
    if args.json:
        print(to_json(report))
        return 0
    print(f"{'split':<10}{'total':>8}" + "".join(f"{name:>10}" for name in EMOTIONS))
    for name, split in report["splits"].items():
        print(f"{name:<10}{split['total']:>8}" + "".join(f"{split['classes'][e]:>10}" for e in EMOTIONS))
    print(f"converted {dataset.converted} images; skipped {len(dataset.skipped)}")
    for line in dataset.skipped + dataset.warnings:
        print(f"  {line}")
    return 0


def shard_command(args) -> int:
    from core.shards import write_shards

    with progress_bar("sharding", "image") as bar:
        manifest = write_shards(args.data, args.out, args.shards, args.val_fraction, args.seed, bar.follow)
    print(", ".join(f"{name}: {split['images']:,} images in {len(split['files'])} file(s)"
                    for name, split in manifest["splits"].items()) + f"; skipped {len(manifest['skipped'])}")
    for line in manifest["skipped"][:20]:
        print(f"  {line}")
    return 0
