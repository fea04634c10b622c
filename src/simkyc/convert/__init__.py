"""Model converters: third-party weights (dlib, OpenVINO IR, MiniFASNet's PyTorch pickle)
turned into ONNX graphs with no framework installed. Runtime loaders call them once, on a
model's first load, when its converted file is missing (see docs/ARCHITECTURE.md)."""
