"""A training run's settings (config.json): checked when made, read back from JSON, turned back into flags."""

import dataclasses
import json
import math
import types
import typing
from dataclasses import dataclass

from core.models.architectures import ARCHITECTURES
from core.training.augmentation import MIXES
from core.data.balance import STRATEGIES
from core.training.precision import PRECISIONS
from core.training.recipes import OPTIMIZERS

MAX_SEED = 2**32 - 1  # what NumPy's and Keras' seeding accept
TARGETS = ("votes", "majority")


@dataclass
class TrainConfig:
    """Everything that defines a training run (saved as config.json)."""

    data: str
    arch: str = "vgg"
    epochs: int = 40
    batch_size: int = 128
    learning_rate: float | None = None  # None: the architecture's own
    weight_decay: float | None = None  # AdamW's decoupled weight decay; None: the architecture's own
    balance: str = "none"
    augment: bool = True
    val_fraction: float = 0.1
    seed: int = 0
    train_split: str = "train"
    test_split: str | None = "test"  # scored once at the end when the data has it
    max_images: int | None = None  # a random subset of the training split, for quick runs
    init_from: str | None = None  # a model of the same architecture whose weights start the run
    init_member: str | None = None  # which network of an ensemble init_from is (member_0, member_1...)
    targets: str = "votes"  # learn each face's share of votes where people voted (FER+), or "majority" labels
    teachers: list[str] | None = None  # models whose averaged probabilities the run learns from (distillation)
    teacher_weight: float = 0.5  # targets = (1 - w) * true label + w * teachers' probabilities
    distillation: str = "offline"  # teachers on each unaugmented image once, or "online": on every augmented batch
    optimizer: str | None = None  # adam, adamw or sgd (Nesterov); None: the architecture's own
    mix: str = "none"  # mixup or cutmix, inside the training step
    mix_alpha: float | None = None  # Beta(alpha, alpha) mixing share; None: 0.2 for mixup, 1.0 for cutmix
    ema: float | None = None  # momentum of a moving average of the weights, used for validation and the saved model
    precision: str = "float32"  # or mixed_bfloat16 (the last layer stays float32)
    test_fraction: float = 0.1  # share held out as the test split when the data has none (by person when known)
    freeze_epochs: int = 0  # a pretrained architecture's first epochs train its new head alone, then all of it
    preset: str | None = None  # the preset the values came from (core.training.presets), for the record
    classes: list[str] | None = None  # the classes the model learns, in its output order (set from the data)

    def __post_init__(self):
        if self.test_split is not None and self.test_split.strip().lower() in ("", "none"):
            self.test_split = None  # `--test-split none`: no test split, none held out
        if self.arch not in ARCHITECTURES:
            raise ValueError(f"unknown architecture '{self.arch}': choose one of {', '.join(ARCHITECTURES)}")
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError("epochs and batch size must be at least 1")
        if not 0 <= self.val_fraction < 1:
            raise ValueError("the validation fraction must be in [0, 1)")
        if not 0 <= self.test_fraction < 0.5:
            raise ValueError("the test fraction must be in [0, 0.5)")
        if not 0 <= self.freeze_epochs <= self.epochs:
            raise ValueError("--freeze-epochs must be from 0 to the number of epochs")
        if not 0 <= self.teacher_weight <= 1:
            raise ValueError("the teacher weight must be in [0, 1]")
        for name, value, allowed in (("distillation", self.distillation, ("offline", "online")),
                                     ("optimizer", self.optimizer, (None, *OPTIMIZERS)), ("mix", self.mix, MIXES),
                                     ("precision", self.precision, PRECISIONS),
                                     ("targets", self.targets, TARGETS)):
            if value not in allowed:
                raise ValueError(f"unknown {name} '{value}': choose one of {', '.join(map(str, allowed))}")
        if self.ema is not None and not 0 < self.ema < 1:
            raise ValueError("the EMA momentum must be in (0, 1), e.g. 0.999")
        if self.learning_rate is not None and not (math.isfinite(self.learning_rate) and self.learning_rate > 0):
            raise ValueError(f"the learning rate must be a positive number, not {self.learning_rate}")
        if self.weight_decay is not None and not (math.isfinite(self.weight_decay) and self.weight_decay >= 0):
            raise ValueError(f"the weight decay must be a number >= 0, not {self.weight_decay}")
        if self.balance not in STRATEGIES:
            raise ValueError(f"unknown balance '{self.balance}': choose one of {', '.join(STRATEGIES)}")
        if not 0 <= self.seed <= MAX_SEED:
            raise ValueError(f"the seed must be a whole number from 0 to {MAX_SEED}, not {self.seed}")
        if self.max_images is not None and self.max_images < 1:
            raise ValueError(f"--max-images must be at least 1, not {self.max_images}")

    @classmethod
    def from_dict(cls, saved, where: str = "config.json") -> "TrainConfig":
        """A config read back from JSON; ValueError naming the first unknown, missing or mistyped setting."""
        if not isinstance(saved, dict):
            raise ValueError(f"{where} is not a JSON object of settings")
        hints = typing.get_type_hints(cls)
        unknown = sorted(set(saved) - set(hints))
        if unknown:
            raise ValueError(f"{where} has an unknown setting '{unknown[0]}'")
        if "data" not in saved:
            raise ValueError(f"{where} lacks the setting 'data'")
        for name, value in saved.items():
            if not _has_type(value, hints[name]):
                raise ValueError(f"{where}: '{name}' must be {_type_name(hints[name])}, not {json.dumps(value)}")
        return cls(**saved)


def _has_type(value, hint) -> bool:
    """Whether a JSON value fits a field's type (bool is not taken for a number, an int is for a float)."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return any(_has_type(value, option) for option in typing.get_args(hint))
    if typing.get_origin(hint) is list:
        return isinstance(value, list) and all(_has_type(v, typing.get_args(hint)[0]) for v in value)
    if hint is type(None):
        return value is None
    if hint in (int, float) and isinstance(value, bool):
        return False
    return isinstance(value, (int, float) if hint is float else hint)


def _type_name(hint) -> str:
    return str(hint).replace("<class '", "").replace("'>", "").replace("NoneType", "null")


def cli_arguments(config: TrainConfig) -> list[str]:
    """The command-line flags that reproduce a config."""
    defaults = TrainConfig(data=config.data)
    arguments = [config.data]
    for field in dataclasses.fields(TrainConfig)[1:]:
        if field.name == "classes":  # found in the data again
            continue
        value = getattr(config, field.name)
        if value != getattr(defaults, field.name):
            flag = "--" + field.name.replace("_", "-")
            if isinstance(value, bool):
                arguments += [flag] if value else ["--no-augment"]
            else:
                arguments += [flag, *value] if isinstance(value, list) else [flag, str(value)]
    return arguments
