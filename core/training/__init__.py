"""A training run, one module a step: the job (job: checks, the lock, cancel), its settings (config,
presets, precision), its data folds (data), the network and optimiser (model, recipes, augmentation), the
epochs (fitting, monitor, checkpoints, distribution across workers, distillation from teachers), its end
(finishing: scores, card, model.keras), the machine (hardware), and ensembles built from finished runs.

May import every package below it: core.storage, core.vision, core.data, core.models, core.evaluation.
"""
