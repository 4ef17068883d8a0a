"""Store: the LanceDB tables and run records (`database`), where they live (`storage`: a folder or an
object store), the writer's lease on an object store (`lease`) and vector indexes (`index`)."""
