"""The commands that judge a model: `evaluate` (scores on a labelled split) and `explain` (Grad-CAM per face)."""

from core.cli.terminal import progress_bar, read_dataset, to_json


def evaluate_command(args) -> int:
    import numpy as np

    from core.evaluation import evaluate_model, stratified_sample
    from core.export import classifier

    runner, runtime = classifier(args.model, args.runtime)
    dataset = read_dataset(args.data)
    name = args.split or ("test" if "test" in dataset.splits else next(iter(dataset.splits)))
    split = dataset.split(name)
    chosen = stratified_sample(split.labels, args.sample, args.seed) if args.sample else np.arange(len(split))
    sources = [split.sources[i] for i in chosen]
    with progress_bar("classifying", "face") as bar:
        report = evaluate_model(runner, split.images[chosen], split.labels[chosen], sources, views=args.views,
                                progress=bar.follow)
    report |= {"split": name, "runtime": runtime}
    if args.json:
        print(to_json(report))
        return 0
    print(f"{name}: {report['images']} images ({runtime}), accuracy {report['accuracy']:.4f} (always answering the commonest "
          f"emotion: {report['majority_baseline']:.4f}), macro F1 {report['macro_f1']:.4f}")
    print(f"{'emotion':<10}{'precision':>10}{'recall':>8}{'f1':>8}{'support':>9}")
    for emotion, row in report["per_class"].items():
        print(f"{emotion:<10}{row['precision']:>10.3f}{row['recall']:>8.3f}{row['f1']:>8.3f}{row['support']:>9}")
    return 0


def explain_command(args) -> int:
    from pathlib import Path

    from PIL import Image

    from core.prediction import FacePredictor

    predictor = FacePredictor(args.model)
    _, faces = predictor.predict_file(args.image)
    if not faces:
        print(f"{args.image}: no face found")
        return 1
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for number, (face, picture) in enumerate(zip(faces, predictor.explain(faces)), 1):
        path = out / f"{Path(args.image).stem}_face{number}.png"
        Image.fromarray(picture).save(path)
        print(f"{args.image}: face {number}: {face.emotion} {face.confidence:.0%} at box {list(face.box)} -> {path}")
    return 0
