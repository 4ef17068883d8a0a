"""Models: the image encoder (ResNet50 + head, the `Encoder` seam) and the linker that translates image
vectors into the graph space. Built on core only; how a database's models are loaded at query time
lives in the read side (`catalog.query.stored_models`)."""
