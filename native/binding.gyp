{
  "targets": [
    {
      "target_name": "heapscope",
      "sources": ["heapscope.cc", "snapshot.cc", "numbers.cc", "literals.cc", "dominators.cc", "ownership.cc", "tasks.cc"],
      "cflags_cc": ["-O3", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "ldflags": ["-Wl,--gc-sections"],
      "xcode_settings": {
        "OTHER_CPLUSPLUSFLAGS": ["-O2"],
        "MACOSX_DEPLOYMENT_TARGET": "11.0"
      }
    }
  ]
}
