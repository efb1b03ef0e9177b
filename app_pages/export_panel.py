"""The Evaluate page's export panel (drawn inside that page, not a page of its own): the model as a
LiteRT or ONNX file, checked against Keras on test faces, to download."""

import tempfile
from pathlib import Path

import streamlit as st

from core.evaluation.export import FORMATS, QUANTIZATIONS, export_model

FORMAT_LABELS = {"tflite": "LiteRT / TensorFlow Lite (.tflite)", "onnx": "ONNX (.onnx)"}
WEIGHTS_HELP = "float16: half the size; int8: a quarter, its activations calibrated on training faces"


@st.cache_data(show_spinner="Exporting, then checking the export against the Keras model...", max_entries=4)
def exported(model_path: str, mtime: float, fmt: str, quantize: str | None, data: str | None) -> tuple[bytes, dict]:
    """The exported file's bytes and its check report (see core.evaluation.export.export_model)."""
    with tempfile.TemporaryDirectory() as folder:
        report = export_model(model_path, fmt, quantize, Path(folder) / f"model{FORMATS[fmt]}", data)
        return Path(report.pop("path")).read_bytes(), report


def export_panel(model_path: Path, slug: str, own_data: bool = False) -> None:
    """Format and weights choices, a button that exports and checks, the check's numbers and a download.

    The export is checked on the dataset this tab chose, or with own_data (or none chosen) on the
    data the model was trained on."""
    with st.expander("Export for phones and other runtimes: LiteRT or ONNX, checked against Keras"):
        left, right = st.columns(2)
        fmt = left.selectbox("Format", list(FORMATS), format_func=FORMAT_LABELS.get)
        weights = right.selectbox("Weights", ["float32", *QUANTIZATIONS], help=WEIGHTS_HELP)
        request = (str(model_path), model_path.stat().st_mtime, fmt, None if weights == "float32" else weights,
                   None if own_data else st.session_state.get("data_path") or None)  # None: the data it was trained on
        if st.button("Export and check"):
            st.session_state["export_request"] = request
        if st.session_state.get("export_request") != request:
            return
        try:
            content, report = exported(*request)
        except Exception as error:  # converters raise many types; the user gets the reason, not a traceback
            st.error(f"The export failed: {error}")
            return
        (st.success if report["passed"] else st.warning)(
            f"Checked on {report['faces']:,} test faces: the export gives the Keras model's top emotion for "
            f"{report['top1_agreement']:.2%} of them (99% needed); probabilities differ by "
            f"{report['mean_probability_difference']:.5f} on average, {report['max_probability_difference']:.4f} "
            f"at most; accuracy {report['export_accuracy']:.1%} (Keras {report['keras_accuracy']:.1%}).")
        st.download_button(f"Download {slug}-{weights}{FORMATS[fmt]} ({report['bytes'] / 1e6:.1f} MB)", content,
                           file_name=f"{slug}-{weights}{FORMATS[fmt]}", mime="application/octet-stream",
                           on_click="ignore")
