"""The `predict` command: emotions of the faces in picture files, in one folder (to a CSV) or in one video."""

from core.cli.terminal import progress_bar, to_json
from core.models.inference import DEFAULT_VIEWS


def predict_command(args) -> int:
    from pathlib import Path

    from core.prediction.video import VIDEO_SUFFIXES

    if len(args.images) == 1 and Path(args.images[0]).is_dir():
        return _predict_folder(args)
    if len(args.images) == 1 and Path(args.images[0]).suffix.lower() in VIDEO_SUFFIXES:
        return _predict_video(args)
    if any(Path(path).is_dir() or Path(path).suffix.lower() in VIDEO_SUFFIXES for path in args.images):
        raise ValueError("give one folder or one video at a time, without picture files beside it")
    return _predict_pictures(args)


def _predict_video(args) -> int:
    from pathlib import Path

    from core.prediction.pictures import FacePredictor
    from core.prediction.video import VIEWS as VIDEO_VIEWS, predict_video

    source = Path(args.images[0])
    csv_path = Path(args.csv or f"{source.stem}-emotions.csv")
    annotated = Path(args.annotate) / f"{source.stem}-annotated.mp4" if args.annotate else None
    for output in (csv_path, annotated):
        if output and output.exists():
            raise ValueError(f"{output} already exists: give another name or remove it (nothing was overwritten)")
    if annotated:
        annotated.parent.mkdir(parents=True, exist_ok=True)
    predictor = FacePredictor(args.model)
    with progress_bar(source.name, "frame") as bar:
        counts = predict_video(predictor, source, csv_path, args.every, annotated, bar.follow,
                               args.views or VIDEO_VIEWS)
    print(f"{csv_path}: {counts['classified']} of {counts['frames']} frames classified, {counts['faces']} faces "
          f"followed, {counts['rows']} rows" + (f"; annotated video: {annotated}" if annotated else ""))
    return 0


def _predict_folder(args) -> int:
    from core.prediction.folders import predict_folder
    from core.prediction.pictures import FacePredictor

    if not args.csv:
        raise ValueError("a folder's results go to a CSV file: add --csv FILE")
    predictor = FacePredictor(args.model, views=args.views or DEFAULT_VIEWS)
    with progress_bar(args.images[0], "photo") as bar:
        counts = predict_folder(predictor, args.images[0], args.csv, args.workers, bar.follow)
    print(f"{args.csv}: {counts['photos']} photos ({counts['resumed']} from an earlier run), {counts['faces']} faces "
          f"found now, {counts['no_face']} photos without a face, {counts['errors']} unreadable")
    return 0


def _predict_pictures(args) -> int:
    from pathlib import Path

    from PIL import Image

    from core.vision.faces import no_face_reason
    from core.vision.imaging import ImageError
    from core.prediction.pictures import FacePredictor, draw_predictions

    predictor = FacePredictor(args.model, views=args.views or DEFAULT_VIEWS)
    results, failures, written = [], 0, set()
    if args.annotate:  # never over an input picture in the same folder
        written |= {Path(p).name for p in args.images if Path(p).parent.resolve() == Path(args.annotate).resolve()}
    for path in args.images:
        try:
            picture, faces = predictor.predict_file(path)
        except (ImageError, OSError) as error:
            failures += 1
            results.append({"image": path, "error": str(error), "faces": []})
            continue
        results.append({"image": path, "faces": [face.as_dict() for face in faces]})
        if not faces:
            results[-1]["no_face"] = no_face_reason(picture)
        if args.annotate:
            Path(args.annotate).mkdir(parents=True, exist_ok=True)
            target = _unused_name(Path(args.annotate), Path(path).stem, written)
            Image.fromarray(draw_predictions(picture, faces)).save(target)
            results[-1]["annotated"] = str(target)
    if args.json:
        print(to_json(results))
    else:
        for result in results:
            if "error" in result:
                print(f"{result['image']}: error: {result['error']}")
            elif not result["faces"]:
                print(f"{result['image']}: {result['no_face']}")
            for face in result["faces"]:
                print(f"{result['image']}: {face['emotion']} {face['confidence']:.0%} at box {face['box']}")
    return 2 if failures == len(results) else 0


def _unused_name(folder, stem: str, taken: set) -> "Path":
    """folder/stem.png, or stem-2.png, stem-3.png... when an earlier input of this command took the name."""
    number = 1
    while (name := f"{stem}.png" if number == 1 else f"{stem}-{number}.png") in taken:
        number += 1
    taken.add(name)
    return folder / name
