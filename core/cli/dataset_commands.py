"""The dataset commands: `stats` (images per split and emotion) and `shard` (TFRecord files to train from)."""

from core.cli.terminal import progress_bar, read_dataset, to_json

MAX_LISTED = 50  # skipped files printed one a line (warnings: all); --json holds every one


def stats_command(args) -> int:
    from core.data.overview import agreement, left_out_counts, shown_classes, skipped_faces, split_counts

    dataset = read_dataset(args.data)
    classes = shown_classes(dataset)
    skipped = skipped_faces(dataset)
    report = {"classes": classes,
              "splits": {name: {"total": sum(c.values()), "classes": c} for name, c in split_counts(dataset).items()},
              "faces_found": dataset.faces.get("found", 0), "skipped_faces": skipped,
              "converted": dataset.converted, "skipped": dataset.skipped, "warnings": dataset.warnings,
              "left_out": left_out_counts(dataset),
              "agreement": {name: agreement(split) for name, split in dataset.splits.items() if agreement(split)}}
    if args.json:
        print(to_json(report))
        return 0
    width = max(10, *(len(name) + 2 for name in classes))
    print(f"{'split':<10}{'total':>8}" + "".join(f"{name:>{width}}" for name in classes))
    for name, split in report["splits"].items():
        print(f"{name:<10}{split['total']:>8}" + "".join(f"{split['classes'][e]:>{width}}" for e in classes))
    for name, shares in report["agreement"].items():
        print(f"{name}: people agreed with the majority by {shares['mean']:.0%} of their votes on average; faces by "
              "that share: " + ", ".join(f"{share} {count:,}" for share, count in shares["top_share"].items()))
    for name, reasons in report["left_out"].items():
        print(f"{name}: left out, without a majority: " + ", ".join(f"{count:,} ({reason})"
                                                                     for reason, count in reasons.items()))
    print(f"converted {dataset.converted} images ({report['faces_found']} faces found and aligned in larger pictures); "
          f"skipped {len(dataset.skipped)}")
    for name, kinds in skipped.items():
        print(f"  {name}: {len(kinds['no_face'])} without a face, {len(kinds['several_faces'])} with several faces")
    for line in dataset.warnings + dataset.skipped[:MAX_LISTED]:
        print(f"  {line}")
    if len(dataset.skipped) > MAX_LISTED:
        print(f"  ... and {len(dataset.skipped) - MAX_LISTED:,} more skipped (every one: --json)")
    return 0


def shard_command(args) -> int:
    from core.data.shards import write_shards

    with progress_bar("sharding", "image") as bar:
        manifest = write_shards(args.data, args.out, args.shards, args.val_fraction, args.seed, bar.follow)
    print(", ".join(f"{name}: {split['images']:,} images in {len(split['files'])} file(s)"
                    for name, split in manifest["splits"].items()) + f"; skipped {len(manifest['skipped'])}")
    for line in manifest["skipped"][:20]:
        print(f"  {line}")
    return 0
