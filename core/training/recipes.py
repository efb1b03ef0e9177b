"""Training recipes: what one training step does to a batch, and the optimiser that takes the step.

TrainingModel wraps a network for model.fit. Each step, inside the compiled function, augments the
batch (core.training.augmentation), mixes it (mixup or CutMix), blends the teachers' probabilities on that
same batch into the targets (online distillation), and trains the network on the result. The data
stays uint8 arrays; nothing is done per image in Python, so a GPU run is not input-bound.
"""

import keras
from keras import ops

from core.training.augmentation import FaceAugmentation, mix_batch

OPTIMIZERS = ("adam", "adamw", "sgd")
SGD_LEARNING_RATE = 0.01
SGD_WEIGHT_DECAY = 5e-4
SGD_MOMENTUM = 0.9


@keras.saving.register_keras_serializable(package="fer_studio")
class TrainingModel(keras.Model):
    """network + augmentation + mixing + online teachers, fitted on ((images, targets), targets).

    Example: TrainingModel(build_seed(), mix="cutmix").fit((x_uint8, y), y, ...); trains network's weights.
    Returns (probabilities, targets) from call: the loss and metrics compare the two (called on faces
    alone, the network's probabilities).
    """

    def __init__(self, network, augment=True, mix="none", mix_alpha=None, teachers=(), teacher_weight=0.0,
                 seed=0, **kwargs):
        super().__init__(**kwargs)
        self.network = network
        self.augment, self.mix, self.mix_alpha, self.teacher_weight, self.seed = (
            augment, mix, mix_alpha, teacher_weight, seed)
        self.augmentation = FaceAugmentation(seed, dtype="float32")
        self.generator = keras.random.SeedGenerator(seed + 1)
        self.teachers = list(teachers)
        for teacher in self.teachers:
            teacher.trainable = False

    def call(self, inputs, training=False):
        if not isinstance(inputs, (tuple, list)):  # faces alone: the network's probabilities
            return self.network(inputs, training=training)
        images, targets = inputs
        images, targets = ops.cast(images, "float32"), ops.cast(targets, "float32")
        if training:
            if self.augment:
                images = self.augmentation(images, training=True)
            images, targets = mix_batch(images, targets, self.mix, self.generator, self.mix_alpha)
            if self.teachers:
                taught = sum(ops.cast(teacher(images, training=False), "float32") for teacher in self.teachers)
                taught = ops.stop_gradient(taught / len(self.teachers))
                targets = (1 - self.teacher_weight) * targets + self.teacher_weight * taught
        return ops.cast(self.network(images, training=training), "float32"), targets

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        probabilities, targets = y_pred
        return super().compute_loss(x, targets, probabilities, sample_weight, training)

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        probabilities, targets = y_pred
        return super().compute_metrics(x, targets, probabilities, sample_weight)

    def build(self, input_shape=None):
        self.built = True  # the network and teachers arrive built; augmentation has no weights

    def get_config(self):
        return {"name": self.name, "network": keras.saving.serialize_keras_object(self.network),
                "teachers": [keras.saving.serialize_keras_object(teacher) for teacher in self.teachers],
                "augment": self.augment, "mix": self.mix, "mix_alpha": self.mix_alpha,
                "teacher_weight": self.teacher_weight, "seed": self.seed}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["network"] = keras.saving.deserialize_keras_object(config["network"])
        config["teachers"] = [keras.saving.deserialize_keras_object(teacher) for teacher in config["teachers"]]
        return cls(**config)


def build_optimizer(name: str, rate: float | None, schedule: str, default_rate: float, weight_decay: float | None,
                    default_decay: float, total_steps: int, steps_per_epoch: int,
                    ema: float | None = None) -> keras.optimizers.Optimizer:
    """Adam, AdamW or SGD with Nesterov momentum, on a constant or warm-up + cosine schedule.

    SGD's own defaults (rate 0.01, decay 5e-4) replace the architecture's, which are tuned for AdamW.
    ema: keep an exponential moving average of the weights with this momentum (e.g. 0.999).
    """
    if name == "sgd":
        default_rate, default_decay = SGD_LEARNING_RATE, SGD_WEIGHT_DECAY
    rate = rate or default_rate
    if schedule == "cosine":
        warmup = min(2 * steps_per_epoch, total_steps // 10)
        rate = keras.optimizers.schedules.CosineDecay(rate / 10, max(total_steps - warmup, 1), alpha=0.01,
                                                      warmup_target=rate, warmup_steps=warmup)
    averaging = {"use_ema": True, "ema_momentum": ema} if ema else {}
    if name == "adam":
        return keras.optimizers.Adam(rate, **averaging)
    decay = weight_decay or default_decay
    if name == "adamw":
        return keras.optimizers.AdamW(rate, weight_decay=decay, **averaging)
    return keras.optimizers.SGD(rate, momentum=SGD_MOMENTUM, nesterov=True, weight_decay=decay, **averaging)


def ema_weights_callback(resumed: bool) -> keras.callbacks.Callback:
    """Puts the weights' moving average into the model for validation and at each epoch's end (so the
    checkpoint, the best weights and the saved model hold it) and the raw weights back for training.

    resumed: the run continues from a checkpoint, which holds the averages in the model.
    """
    callback = keras.callbacks.SwapEMAWeights(swap_on_epoch=True)
    callback._ema_weights_in_model = resumed  # Keras keeps this state private; a checkpoint is written swapped
    return callback
