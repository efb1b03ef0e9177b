"""Training presets: named sets of training options that a command line's own options override.

quick: all three shipped networks' learned features with a logistic regression head for the data's classes
(core.models.architectures "features", core.training.feature_head): scored on each person left out, calibrated
there, then taught on every example; a few hundred faces of your own classes in under a minute on two CPU cores
(bench/new_people.py chose it over fine-tuning one member, "transfer", which stays an --arch).
full: today's from-scratch recipe (vgg, 40 epochs, cosine AdamW), for large datasets such as FER-2013.
"""

PRESETS = {
    "quick": {"arch": "features", "precision": "float32"},
    "full": {"arch": "vgg", "epochs": 40, "batch_size": 128},
}


def preset_values(name: str | None, given: dict) -> dict:
    """The options a run trains with: the preset's values, overridden by those given (not None).

    Example: preset_values("quick", {"epochs": 12})["epochs"] -> 12
    """
    if name is not None and name not in PRESETS:
        raise ValueError(f"unknown preset '{name}': choose one of {', '.join(PRESETS)}")
    chosen = {key: value for key, value in given.items() if value is not None}
    return (PRESETS[name] if name else {}) | chosen
