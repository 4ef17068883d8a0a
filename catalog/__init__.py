"""catalog: recommendations from linked image and graph latent spaces (Kamath & Franco), on LanceDB."""

__version__ = "0.1.0"
