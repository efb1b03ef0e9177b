"""Evaluation reports kept on disk: a model is scored on a split once, and shown at once afterwards,
also after a restart.

A report is keyed by the model file (path, size, modification time), the dataset's content key (the
names, sizes and times of its files), the split, the test-time views, the runtime asked for (with
"fast", the fast export's size and time too) and the sample size (0: the whole split): a retrained model, a new export or a changed dataset is
scored afresh. Reports are JSON files in evaluations/ in the runs folder.
"""

import hashlib
import json
import time
from pathlib import Path

import numpy as np

from core.data.dataset import Dataset
from core.evaluation.agreement import people_figures, scored_faces
from core.evaluation.scores import evaluate_model, stratified_sample
from core.evaluation.export import fast_export_file
from core.models.inference import Progress
from core.models.store import model_classes
from core.storage.runs import read_json, runs_dir, write_json

REPORT_VERSION = 5  # 3: reports name the model's classes; 4: and the faces they scored; 5: and those left out


def reports_dir() -> Path:
    """Where reports are kept: evaluations/ in the runs folder ($FER_RUNS_DIR or runs/)."""
    return runs_dir() / "evaluations"


def report_file(model_file: Path, dataset: Dataset, split: str, views: str, runtime: str = "fast",
                sample: int = 0, only_known: bool = False) -> Path:
    """The file that holds (or will hold) this model's report on this split of this dataset."""
    stat = Path(model_file).stat()
    export = fast_export_file(model_file) if runtime == "fast" else None
    exported = [export.stat().st_size, export.stat().st_mtime_ns] if export and export.exists() else None
    spec = [REPORT_VERSION, str(Path(model_file).resolve()), stat.st_size, stat.st_mtime_ns, dataset.source,
            dataset.key, split, views, runtime, exported] + ([sample] if sample else []) + (["only known"] if only_known
                                                                                            else [])
    return reports_dir() / (hashlib.sha256(json.dumps(spec).encode()).hexdigest()[:24] + ".json")


def stored_report(model_file: Path, dataset: Dataset, split: str, views: str, runtime: str = "fast",
                  sample: int = 0, only_known: bool = False) -> dict | None:
    """The stored report (see score_split), or None when it was never made."""
    return read_json(report_file(model_file, dataset, split, views, runtime, sample, only_known))


def score_split(runner, dataset: Dataset, split: str, classes: list[str], views: str, progress: Progress | None = None,
                sample: int = 0, seed: int = 0, only_known: bool = False) -> dict:
    """Score a split's faces (a stratified sample of `sample` of them, when given) against their labels, the
    majority of votes where people voted (core.evaluation.agreement): the report of
    core.evaluation.scores.score_predictions plus "split", "indices" (the split's faces scored, in the order of
    "predicted"), "left_out" (faces not scored, by reason) and core.evaluation.agreement.people_figures."""
    chosen, labels, left_out = scored_faces(dataset, split, classes, only_known)
    if sample:
        picked = stratified_sample(labels, sample, seed)
        chosen, labels = chosen[picked], labels[picked]
    faces = dataset.split(split)
    report = evaluate_model(runner, faces.images[chosen], labels, [faces.sources[i] for i in chosen], views,
                            progress, classes)
    figures = people_figures(dataset, split, chosen, np.asarray(report["predicted"], dtype=np.int64), classes)
    return report | figures | {"split": split, "left_out": left_out, "indices": chosen.tolist()}


def evaluate_and_store(scorer: tuple[object, str], model_file: Path, dataset: Dataset, split: str, views: str,
                       runtime: str = "fast", progress: Progress | None = None, sample: int = 0,
                       only_known: bool = False) -> dict:
    """Score the model on the split, or on a stratified sample of `sample` of its faces, with scorer,
    core.evaluation.export.classifier(model_file, runtime)'s (runner, runtime name), store the report and return it
    (progress as in core.evaluation.scores.evaluate_model). Its "indices" are the split's faces it scored, in the
    order of its "predicted" (a mistake's "index" counts in that order). Nothing is stored when progress
    raises (a cancel). ValueError when the data has classes the model does not know, unless only_known (their
    faces are then left out and counted); the report's labels index the model's classes."""
    runner, name = scorer
    report = score_split(runner, dataset, split, model_classes(model_file), views, progress, sample, 0, only_known)
    report |= {"model": str(model_file), "data": dataset.source, "runtime": name,
               "scored": time.strftime("%Y-%m-%d %H:%M")}
    path = report_file(model_file, dataset, split, views, runtime, sample, only_known)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json(path, report)
    return report
