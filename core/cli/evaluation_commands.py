"""The commands that judge a model: `evaluate` (scores on a labelled split) and `explain` (Grad-CAM per face)."""

from core.cli.terminal import progress_bar, read_dataset, to_json


def evaluate_command(args) -> int:
    from core.evaluation.export import classifier
    from core.evaluation.reports import score_split
    from core.models.store import model_classes

    runner, runtime = classifier(args.model, args.runtime)
    classes = model_classes(args.model)
    dataset = read_dataset(args.data)
    name = args.split or ("test" if "test" in dataset.splits else next(iter(dataset.splits)))
    with progress_bar("classifying", "face") as bar:
        report = score_split(runner, dataset, name, classes, args.views, bar.follow, args.sample or 0, args.seed,
                             args.only_known_classes)
    voted = dataset.split(name).votes is not None
    report |= {"runtime": runtime, "against": "the majority of votes" if voted else "labels",
               "skipped": len(dataset.skipped),
               "no_face": sum(len(names) for names in dataset.faces.get("no_face", {}).values()),
               "several_faces": sum(len(names) for names in dataset.faces.get("several_faces", {}).values())}
    if args.json:
        print(to_json(report))
        return 0
    print(f"{name}: {report['images']} images ({runtime}), accuracy {report['accuracy']:.4f} against "
          f"{report['against']} (always answering the commonest class: {report['majority_baseline']:.4f}), "
          f"macro F1 {report['macro_f1']:.4f}")
    if "plausible" in report:
        print(f"answers at least 3 of the ten people gave: {report['plausible']:.4f}")
    if report["left_out"]:
        print("not scored: " + ", ".join(f"{count} ({reason})" for reason, count in report["left_out"].items()))
    if report["answers_outside_data"]:
        print(f"answers in classes the data has no face of (counted wrong): {report['answers_outside_data']}")
    if report["skipped"]:
        print(f"not scored: {report['skipped']} pictures ({report['no_face']} without a face, {report['several_faces']} "
              "with several): `python -m core stats` lists them")
    width = max(10, *(len(name) + 2 for name in classes))
    print(f"{'class':<{width}}{'precision':>10}{'recall':>8}{'f1':>8}{'support':>9}")
    for class_name, row in report["per_class"].items():
        print(f"{class_name:<{width}}{row['precision']:>10.3f}{row['recall']:>8.3f}{row['f1']:>8.3f}{row['support']:>9}")
    return 0


def explain_command(args) -> int:
    from pathlib import Path

    from PIL import Image

    from core.prediction.pictures import FacePredictor

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
