"""Taught models from small data, scored on people not taught: which head on the shipped networks' features,
against the shipped models' own choice among the same emotions.

A fixed protocol: FER-2013's PublicTest faces (the shipped models never trained on them) of two classes (happy,
surprise) or three (neutral added), grouped into synthetic people of a few faces a class; a few people taught,
every other face of those classes scored. Compared, on the same faces: the shipped models' own choice (their
probabilities of those emotions alone: the default's, trained on FER+, and the FER-2013 model's, whose networks
give the features), a logistic regression on one member's penultimate features, on all three members' (with the
mirror images taught too), at several regularizations; its temperature fitted by leaving each taught person out
(core.evaluation.new_people) on the face and its mirror averaged, as live, and checked on the faces not taught.
Prints markdown tables for docs/benchmarks.md.

Example: python bench/new_people.py --people 5 --per-person 12 --seeds 5
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from core.data.emotions import EMOTIONS  # noqa: E402
from core.evaluation.new_people import calibrated, fit_head, held_out_probabilities, fit_temperature  # noqa: E402
from core.models.features import face_features, feature_network, members  # noqa: E402
from core.models.store import load_model, read_card  # noqa: E402
from core.models.architectures import FEATURES_MODEL_DIR  # noqa: E402
from core.models.inference import LIVE_VIEWS, face_probabilities  # noqa: E402
from core.storage.runs import DEFAULT_MODEL_DIR  # noqa: E402

SETTINGS = {"2 classes": ["happy", "surprise"], "3 classes": ["happy", "neutral", "surprise"]}
POOL = 400  # faces read a class
REGULARIZATIONS = (0.001, 0.01, 0.1, 1.0)


def read_faces(data: Path, emotion: str, count: int, rng: np.random.Generator) -> np.ndarray:
    files = sorted((data / "test" / emotion).iterdir())
    chosen = rng.choice(len(files), min(count, len(files)), replace=False)
    return np.stack([np.asarray(Image.open(files[i]).convert("L").resize((48, 48))) for i in chosen])


def nll(probabilities: np.ndarray, labels: np.ndarray) -> float:
    return -float(np.log(np.clip(probabilities[np.arange(len(labels)), labels], 1e-12, 1)).mean())


def ece(probabilities: np.ndarray, labels: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error: confidence against accuracy in equal-width bins."""
    confidence, right = probabilities.max(1), probabilities.argmax(1) == labels
    edges = np.minimum((confidence * bins).astype(int), bins - 1)
    return float(sum(abs(confidence[edges == b].mean() - right[edges == b].mean()) * (edges == b).mean()
                     for b in range(bins) if (edges == b).any()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(PROJECT.parent / "shared" / "datasets" / "fer2013"))
    parser.add_argument("--people", type=int, default=5, help="people taught")
    parser.add_argument("--per-person", type=int, default=12, help="faces a person shows of each class")
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    model = load_model(FEATURES_MODEL_DIR)
    emotions = sorted({e for classes in SETTINGS.values() for e in classes})
    faces = {emotion: read_faces(Path(args.data), emotion, POOL, rng) for emotion in emotions}
    network, heads = feature_network(model), [member.layers[-1].get_weights() for member in members(model)]
    started = time.time()
    every = {(emotion, mirrored): face_features(network, faces[emotion], mirrored)
             for emotion in emotions for mirrored in (False, True)}
    extraction = {"all three members": (time.time() - started) / sum(len(f) for f in faces.values()) / 2}
    extraction["vgg member"] = extraction["all three members"]  # an upper bound: its columns of the same pass
    width = every[(emotions[0], False)].shape[1] // len(heads)
    features = {("all three members", e, m): f for (e, m), f in every.items()}
    features |= {("vgg member", e, m): f[:, -width:] for (e, m), f in every.items()}  # the vgg is the last member

    def shipped_of(emotion: str) -> np.ndarray:
        """The ensemble's probabilities (face and mirror averaged) from its members' own heads on these features."""
        views = []
        for mirrored in (False, True):
            chunks = np.split(every[(emotion, mirrored)], len(heads), axis=1)
            logits = [chunk @ kernel + bias for chunk, (kernel, bias) in zip(chunks, heads)]
            views.append(np.mean([np.exp(z - z.max(1, keepdims=True)) / np.exp(z - z.max(1, keepdims=True)).sum(
                1, keepdims=True) for z in logits], axis=0))
        return np.mean(views, axis=0)
    shipped = {emotion: shipped_of(emotion) for emotion in emotions}
    default, default_classes = load_model(DEFAULT_MODEL_DIR), read_card(DEFAULT_MODEL_DIR)["classes"]
    by_default = {emotion: face_probabilities(default, faces[emotion], LIVE_VIEWS) for emotion in emotions}
    networks = ("vgg member", "all three members")
    print("features: " + ", ".join(f"{name} {seconds * 1000:.1f} ms a face" for name, seconds in extraction.items()))
    for setting, classes in SETTINGS.items():
        taught_n = args.people * args.per_person
        rows: dict[str, list] = {}
        for seed in range(args.seeds):
            order = {e: np.random.default_rng(seed).permutation(len(faces[e])) for e in classes}
            taught = {e: order[e][:taught_n] for e in classes}
            tested = {e: order[e][taught_n:] for e in classes}
            y_taught = np.concatenate([np.full(taught_n, i) for i, e in enumerate(classes)])
            y_tested = np.concatenate([np.full(len(tested[e]), i) for i, e in enumerate(classes)])
            people = [f"p{i // args.per_person}" for e in classes for i in range(taught_n)]
            own = np.concatenate([by_default[e][tested[e]] for e in classes])[:, [default_classes.index(e)
                                                                                    for e in classes]]
            rows.setdefault("the default's own choice (FER+)", []).append(((own.argmax(1) == y_tested).mean(), 0,
                                                                           None))
            own = np.concatenate([shipped[e][tested[e]] for e in classes])[:, [EMOTIONS.index(e) for e in classes]]
            rows.setdefault("the FER-2013 model's own choice", []).append(((own.argmax(1) == y_tested).mean(), 0,
                                                                           None))
            for name in networks:
                def taken(mirrored: bool, which: dict) -> np.ndarray:
                    return np.concatenate([features[(name, e, mirrored)][which[e]] for e in classes])
                x, x_mirror = taken(False, taught), taken(True, taught)
                for c in REGULARIZATIONS:
                    for mirrors in (False, True):
                        if mirrors and name == "vgg member" and c != 0.01:
                            continue
                        began = time.time()
                        x_fit = np.concatenate([x, x_mirror]) if mirrors else x
                        y_fit = np.concatenate([y_taught, y_taught]) if mirrors else y_taught
                        held = held_out_probabilities(x, y_taught, people, len(classes), x_mirror, c, mirrors)
                        temperature = fit_temperature(held, y_taught)
                        head = fit_head(x_fit, y_fit, len(classes), c)
                        seconds = time.time() - began + extraction[name] * len(y_fit)
                        views = np.stack([head(taken(False, tested)), head(taken(True, tested))])
                        probabilities = views.mean(axis=0)  # the face and its mirror, as live
                        label = f"{name}, C={c}" + (", mirrors taught" if mirrors else "")
                        rows.setdefault(label, []).append(((probabilities.argmax(1) == y_tested).mean(), seconds,
                                                           (probabilities, calibrated(views, temperature),
                                                            y_tested, temperature)))
        print(f"\n### {setting} ({', '.join(classes)}): {args.people} people taught, {args.per_person} faces a "
              f"class each; {len(y_tested)} faces of others scored; {args.seeds} draws\n")
        print("| head | accuracy on people not taught (mean, min-max) | teaching time (s) | NLL raw -> calibrated "
              "| ECE raw -> calibrated | temperature |")
        print("| --- | --- | --- | --- | --- | --- |")
        for label, results in rows.items():
            accuracy = np.array([r[0] for r in results])
            line = f"| {label} | {accuracy.mean():.3f} ({accuracy.min():.3f}-{accuracy.max():.3f}) | "
            if results[0][2] is None:
                print(line + "- | - | - | - |")
                continue
            seconds = np.mean([r[1] for r in results])
            raw = np.mean([nll(r[2][0], r[2][2]) for r in results]), np.mean([ece(r[2][0], r[2][2]) for r in results])
            cal = np.mean([nll(r[2][1], r[2][2]) for r in results]), np.mean([ece(r[2][1], r[2][2]) for r in results])
            temperatures = [r[2][3] for r in results]
            print(line + f"{seconds:.1f} | {raw[0]:.3f} -> {cal[0]:.3f} | {raw[1]:.3f} -> {cal[1]:.3f} | "
                         f"{min(temperatures):.2f}-{max(temperatures):.2f} |")


if __name__ == "__main__":
    main()
