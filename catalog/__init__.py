"""catalog: recommendations from linked image and graph latent spaces (Kamath & Franco), on LanceDB."""

__version__ = "0.1.0"

import os as _os

# TensorFlow is imported only where an image is encoded; when it is, keep its C++ start-up chatter
# (oneDNN, CPU feature notices) off the user's terminal.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
_os.environ.setdefault("KERAS_BACKEND", "tensorflow")
