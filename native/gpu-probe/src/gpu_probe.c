// gpu_probe: reports the NVIDIA GPUs present through NVML, loaded at run time (and, in vulkan_probe.c,
// the Vulkan adapters WebGPU can pick).
// Nothing from CUDA or NVML is needed to build it; where the driver (and so NVML)
// is missing, probe() returns { available: false, reason } instead of failing.
#define NAPI_VERSION 6
#include <node_api.h>
#include <stdio.h>
#include <string.h>

#ifdef _WIN32
#include <windows.h>
typedef HMODULE lib_handle;
static lib_handle open_nvml(void) {
  lib_handle h = LoadLibraryA("nvml.dll");
  if (!h) h = LoadLibraryA("C:\\Program Files\\NVIDIA Corporation\\NVSMI\\nvml.dll");
  return h;
}
static void *find_symbol(lib_handle h, const char *name) { return (void *)GetProcAddress(h, name); }
static void close_nvml(lib_handle h) { FreeLibrary(h); }
#else
#include <dlfcn.h>
typedef void *lib_handle;
static lib_handle open_nvml(void) {
  lib_handle h = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!h) h = dlopen("libnvidia-ml.so", RTLD_NOW | RTLD_LOCAL);
  return h;
}
static void *find_symbol(lib_handle h, const char *name) { return dlsym(h, name); }
static void close_nvml(lib_handle h) { dlclose(h); }
#endif

// The few NVML declarations used, as in nvml.h (stable C ABI).
typedef int nvmlReturn_t;
typedef struct nvmlDevice_st *nvmlDevice_t;
typedef struct {
  unsigned long long total;
  unsigned long long free;
  unsigned long long used;
} nvmlMemory_t;

typedef nvmlReturn_t (*init_fn)(void);
typedef nvmlReturn_t (*shutdown_fn)(void);
typedef const char *(*error_string_fn)(nvmlReturn_t);
typedef nvmlReturn_t (*driver_version_fn)(char *, unsigned int);
typedef nvmlReturn_t (*count_fn)(unsigned int *);
typedef nvmlReturn_t (*handle_fn)(unsigned int, nvmlDevice_t *);
typedef nvmlReturn_t (*name_fn)(nvmlDevice_t, char *, unsigned int);
typedef nvmlReturn_t (*memory_fn)(nvmlDevice_t, nvmlMemory_t *);

#include "napi_helpers.h"

static napi_value probe(napi_env env, napi_callback_info info) {
  (void)info;
  lib_handle lib = open_nvml();
  if (!lib) return unavailable(env, "no NVIDIA driver (NVML library not found)");

  init_fn init = (init_fn)find_symbol(lib, "nvmlInit_v2");
  shutdown_fn shutdown = (shutdown_fn)find_symbol(lib, "nvmlShutdown");
  error_string_fn error_string = (error_string_fn)find_symbol(lib, "nvmlErrorString");
  driver_version_fn driver_version = (driver_version_fn)find_symbol(lib, "nvmlSystemGetDriverVersion");
  count_fn device_count = (count_fn)find_symbol(lib, "nvmlDeviceGetCount_v2");
  handle_fn device_handle = (handle_fn)find_symbol(lib, "nvmlDeviceGetHandleByIndex_v2");
  name_fn device_name = (name_fn)find_symbol(lib, "nvmlDeviceGetName");
  memory_fn device_memory = (memory_fn)find_symbol(lib, "nvmlDeviceGetMemoryInfo");
  if (!init || !shutdown || !driver_version || !device_count || !device_handle || !device_name || !device_memory) {
    close_nvml(lib);
    return unavailable(env, "NVIDIA driver too old (NVML lacks the v2 functions)");
  }

  nvmlReturn_t rc = init();
  if (rc != 0) {
    char reason[256];
    snprintf(reason, sizeof reason, "NVIDIA driver present but NVML failed to start: %s", error_string ? error_string(rc) : "unknown error");
    close_nvml(lib);
    return unavailable(env, reason);
  }

  napi_value result, devices;
  CHECK(napi_create_object(env, &result));
  CHECK(napi_create_array(env, &devices));
  set_bool(env, result, "available", true);

  char version[96] = {0};
  if (driver_version(version, sizeof version) == 0) set_string(env, result, "driverVersion", version);

  unsigned int count = 0;
  if (device_count(&count) != 0) count = 0;
  uint32_t out_index = 0;
  for (unsigned int i = 0; i < count; i++) {
    nvmlDevice_t dev;
    if (device_handle(i, &dev) != 0) continue;
    napi_value d;
    CHECK(napi_create_object(env, &d));
    char name[128] = "NVIDIA GPU";
    device_name(dev, name, sizeof name);
    nvmlMemory_t mem = {0, 0, 0};
    device_memory(dev, &mem);
    set_number(env, d, "index", (double)i);
    set_string(env, d, "name", name);
    set_number(env, d, "totalBytes", (double)mem.total);
    set_number(env, d, "freeBytes", (double)mem.free);
    CHECK(napi_set_element(env, devices, out_index++, d));
  }
  CHECK(napi_set_named_property(env, result, "devices", devices));
  shutdown();
  close_nvml(lib);
  return result;
}

static napi_value init_module(napi_env env, napi_value exports) {
  napi_value fn, vk;
  CHECK(napi_create_function(env, "probe", NAPI_AUTO_LENGTH, probe, NULL, &fn));
  CHECK(napi_set_named_property(env, exports, "probe", fn));
  CHECK(napi_create_function(env, "vulkanAdapters", NAPI_AUTO_LENGTH, vulkan_adapters, NULL, &vk));
  CHECK(napi_set_named_property(env, exports, "vulkanAdapters", vk));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init_module)
