{
  "targets": [
    {
      "target_name": "malloc_tune",
      "sources": ["src/malloc_tune.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra"]
    }
  ]
}
