"""Training presets: named sets of training options that a command line's own options override.

quick: the shipped model's learned features with a new head for the data's classes (core.models.architectures
"transfer"), the head trained alone first, then everything fine-tuned at a tenth of the rate, with
augmentation: a few hundred faces of your own classes train in a minute or two on two CPU cores.
full: today's from-scratch recipe (vgg, 40 epochs, cosine AdamW), for large datasets such as FER-2013.
"""

PRESETS = {
    "quick": {"arch": "transfer", "epochs": 30, "freeze_epochs": 10, "batch_size": 32, "learning_rate": 1e-3,
              "precision": "float32"},
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
