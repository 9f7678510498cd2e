{
  "targets": [
    {
      "target_name": "gpu_probe",
      "sources": ["src/gpu_probe.c", "src/vulkan_probe.c"],
      "cflags": ["-std=c11", "-Wall", "-Wextra"],
      "conditions": [
        ["OS=='linux'", { "libraries": ["-ldl"] }]
      ]
    }
  ]
}
