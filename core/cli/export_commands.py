"""The commands that write a model from others: `ensemble` (averaged models) and `export` (LiteRT or ONNX)."""

import json
import sys


def ensemble_command(args) -> int:
    from core.training.ensemble import build_ensemble

    card = build_ensemble(args.models, args.out, args.data, args.views)
    scores = [f"{name} accuracy {card[name]['accuracy']:.4f}" for name in ("validation", "test") if card[name]]
    print(f"{args.out}: {card['architecture']}, {card['parameters']:,} parameters; " + ", ".join(scores))
    return 0


def export_command(args) -> int:
    from core.evaluation.export import export_model

    report = export_model(args.model, args.format, args.quantize, args.out, args.data, args.check_faces)
    if args.json:
        print(json.dumps(report))
    else:
        print(f"{report['path']}: {report['format']} {report['quantize']}, {report['bytes']:,} bytes")
        print(f"checked on {report['faces']} test faces: top-1 agreement with Keras {report['top1_agreement']:.2%}, "
              f"probability difference max {report['max_probability_difference']:.4f} "
              f"mean {report['mean_probability_difference']:.5f}; accuracy {report['export_accuracy']:.2%} "
              f"(Keras {report['keras_accuracy']:.2%})")
    if not report["passed"]:
        print(f"error: the export agrees with Keras on only {report['top1_agreement']:.2%} of the faces "
              "(at least 99% needed)", file=sys.stderr)
        return 1
    return 0
