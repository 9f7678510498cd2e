// vulkanAdapters(): the Vulkan physical devices of this machine (the adapters WebGPU chooses from on Linux and
// Windows), with their type, so a software rasteriser (llvmpipe, SwiftShader: type "cpu") is never taken for a
// GPU; the limits and memory the memory plan reads (free device memory from VK_EXT_memory_budget, the one
// vendor-neutral source); and whether it computes in float16 (what WebGPU's shader-f16 needs). The loader is
// opened at run time: building needs no Vulkan SDK, and without a loader the call says so.
#define NAPI_VERSION 6
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "napi_helpers.h"

#ifdef _WIN32
#include <windows.h>
static void *open_vulkan(void) { return (void *)LoadLibraryA("vulkan-1.dll"); }
static void *vk_symbol(void *h, const char *name) { return (void *)GetProcAddress((HMODULE)h, name); }
static void close_vulkan(void *h) { FreeLibrary((HMODULE)h); }
#else
#include <dlfcn.h>
static void *open_vulkan(void) {
  void *h = dlopen("libvulkan.so.1", RTLD_NOW | RTLD_LOCAL);
  return h ? h : dlopen("libvulkan.1.dylib", RTLD_NOW | RTLD_LOCAL);
}
static void *vk_symbol(void *h, const char *name) { return dlsym(h, name); }
static void close_vulkan(void *h) { dlclose(h); }
#endif

// The few Vulkan 1.0 declarations used, with the C ABI's layout (vulkan_core.h).
typedef struct VkInstance_T *VkInstance;
typedef struct VkPhysicalDevice_T *VkPhysicalDevice;
typedef struct {
  int32_t sType; // VK_STRUCTURE_TYPE_APPLICATION_INFO = 0
  const void *pNext;
  const char *pApplicationName;
  uint32_t applicationVersion;
  const char *pEngineName;
  uint32_t engineVersion;
  uint32_t apiVersion;
} VkApplicationInfo;
typedef struct {
  int32_t sType; // VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO = 1
  const void *pNext;
  uint32_t flags;
  const VkApplicationInfo *pApplicationInfo;
  uint32_t enabledLayerCount;
  const char *const *ppEnabledLayerNames;
  uint32_t enabledExtensionCount;
  const char *const *ppEnabledExtensionNames;
} VkInstanceCreateInfo;
// VkPhysicalDeviceLimits begins with eight uint32 fields (maxStorageBufferRange is the eighth) and holds
// 64-bit sizes, so it is 8-aligned; the tail here is larger than the real struct, so the driver's write fits.
typedef struct {
  uint32_t head[8];
  uint64_t tail[128];
} VkLimitsPrefix;
typedef struct {
  uint32_t apiVersion;
  uint32_t driverVersion;
  uint32_t vendorID;
  uint32_t deviceID;
  int32_t deviceType;
  char deviceName[256];
  uint8_t pipelineCacheUUID[16];
  VkLimitsPrefix limits;
  uint32_t sparseProperties[5];
} VkPhysicalDeviceProperties;
typedef struct {
  uint32_t propertyFlags;
  uint32_t heapIndex;
} VkMemoryType;
typedef struct {
  uint64_t size;
  uint32_t flags; // VK_MEMORY_HEAP_DEVICE_LOCAL_BIT = 1
} VkMemoryHeap;
typedef struct {
  uint32_t memoryTypeCount;
  VkMemoryType memoryTypes[32];
  uint32_t memoryHeapCount;
  VkMemoryHeap memoryHeaps[16];
} VkPhysicalDeviceMemoryProperties;

// Vulkan 1.1 queries, each a chain of structs that start with sType and pNext.
typedef struct {
  int32_t sType; // VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PROPERTIES_2 = 1000059006
  void *pNext;
  VkPhysicalDeviceMemoryProperties memoryProperties;
} VkPhysicalDeviceMemoryProperties2;
typedef struct {
  int32_t sType; // VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_BUDGET_PROPERTIES_EXT = 1000237000
  void *pNext;
  uint64_t heapBudget[16];
  uint64_t heapUsage[16];
} VkPhysicalDeviceMemoryBudgetPropertiesEXT;
typedef struct {
  int32_t sType; // VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2 = 1000059000
  void *pNext;
  uint32_t features[55]; // VkPhysicalDeviceFeatures: 55 VkBool32
} VkPhysicalDeviceFeatures2;
typedef struct {
  int32_t sType; // VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES = 1000082000
  void *pNext;
  uint32_t shaderFloat16;
  uint32_t shaderInt8;
} VkPhysicalDeviceShaderFloat16Int8Features;
typedef struct {
  int32_t sType; // VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES = 1000083000
  void *pNext;
  uint32_t storageBuffer16BitAccess;
  uint32_t uniformAndStorageBuffer16BitAccess;
  uint32_t storagePushConstant16;
  uint32_t storageInputOutput16;
} VkPhysicalDevice16BitStorageFeatures;
typedef struct {
  char extensionName[256];
  uint32_t specVersion;
} VkExtensionProperties;

typedef int32_t (*create_instance_fn)(const VkInstanceCreateInfo *, const void *, VkInstance *);
typedef void (*destroy_instance_fn)(VkInstance, const void *);
typedef int32_t (*enumerate_fn)(VkInstance, uint32_t *, VkPhysicalDevice *);
typedef void (*properties_fn)(VkPhysicalDevice, VkPhysicalDeviceProperties *);
typedef void (*memory_fn)(VkPhysicalDevice, VkPhysicalDeviceMemoryProperties *);
typedef void (*memory2_fn)(VkPhysicalDevice, VkPhysicalDeviceMemoryProperties2 *);
typedef void (*features2_fn)(VkPhysicalDevice, VkPhysicalDeviceFeatures2 *);
typedef int32_t (*device_extensions_fn)(VkPhysicalDevice, const char *, uint32_t *, VkExtensionProperties *);

static bool has_extension(device_extensions_fn list, VkPhysicalDevice d, const char *name) {
  if (!list) return false;
  uint32_t n = 0;
  if (list(d, NULL, &n, NULL) != 0 || n == 0) return false;
  if (n > 512) n = 512;
  static VkExtensionProperties props[512];
  if (list(d, NULL, &n, props) < 0) return false;
  for (uint32_t i = 0; i < n; i++)
    if (strncmp(props[i].extensionName, name, 256) == 0) return true;
  return false;
}

/** Free device-local memory by the driver's budget (budget − usage over device-local heaps), or -1 when unknown. */
static double free_device_local(memory2_fn memory2, device_extensions_fn exts, VkPhysicalDevice d, uint32_t api) {
  if (!memory2 || api < (1u << 22 | 1u << 12) || !has_extension(exts, d, "VK_EXT_memory_budget")) return -1;
  VkPhysicalDeviceMemoryBudgetPropertiesEXT budget;
  VkPhysicalDeviceMemoryProperties2 m2;
  memset(&budget, 0, sizeof budget);
  memset(&m2, 0, sizeof m2);
  budget.sType = 1000237000;
  m2.sType = 1000059006;
  m2.pNext = &budget;
  memory2(d, &m2);
  double free = 0;
  for (uint32_t h = 0; h < m2.memoryProperties.memoryHeapCount && h < 16; h++) {
    if (!(m2.memoryProperties.memoryHeaps[h].flags & 1u)) continue;
    if (budget.heapBudget[h] > budget.heapUsage[h]) free += (double)(budget.heapBudget[h] - budget.heapUsage[h]);
  }
  return free;
}

/** Float16 arithmetic and 16-bit storage buffers: what Dawn asks of a Vulkan device for WebGPU's shader-f16. */
static bool computes_in_float16(features2_fn features2, VkPhysicalDevice d, uint32_t api) {
  if (!features2 || api < (1u << 22 | 1u << 12)) return false;
  VkPhysicalDevice16BitStorageFeatures storage;
  VkPhysicalDeviceShaderFloat16Int8Features f16;
  VkPhysicalDeviceFeatures2 f2;
  memset(&storage, 0, sizeof storage);
  memset(&f16, 0, sizeof f16);
  memset(&f2, 0, sizeof f2);
  storage.sType = 1000083000;
  f16.sType = 1000082000;
  f16.pNext = &storage;
  f2.sType = 1000059000;
  f2.pNext = &f16;
  features2(d, &f2);
  return f16.shaderFloat16 && storage.storageBuffer16BitAccess && storage.uniformAndStorageBuffer16BitAccess;
}

static const char *device_type(int32_t t) {
  switch (t) {
    case 1: return "integrated";
    case 2: return "discrete";
    case 3: return "virtual";
    case 4: return "cpu";
    default: return "other";
  }
}

napi_value vulkan_adapters(napi_env env, napi_callback_info info) {
  (void)info;
  void *lib = open_vulkan();
  if (!lib) return unavailable(env, "no Vulkan loader (libvulkan.so.1) on this machine");
  create_instance_fn create = (create_instance_fn)vk_symbol(lib, "vkCreateInstance");
  destroy_instance_fn destroy = (destroy_instance_fn)vk_symbol(lib, "vkDestroyInstance");
  enumerate_fn enumerate = (enumerate_fn)vk_symbol(lib, "vkEnumeratePhysicalDevices");
  properties_fn properties = (properties_fn)vk_symbol(lib, "vkGetPhysicalDeviceProperties");
  memory_fn memory = (memory_fn)vk_symbol(lib, "vkGetPhysicalDeviceMemoryProperties");
  // Vulkan 1.1 (absent from old loaders: then free memory and float16 are reported unknown)
  memory2_fn memory2 = (memory2_fn)vk_symbol(lib, "vkGetPhysicalDeviceMemoryProperties2");
  features2_fn features2 = (features2_fn)vk_symbol(lib, "vkGetPhysicalDeviceFeatures2");
  device_extensions_fn exts = (device_extensions_fn)vk_symbol(lib, "vkEnumerateDeviceExtensionProperties");
  if (!create || !destroy || !enumerate || !properties || !memory) {
    close_vulkan(lib);
    return unavailable(env, "the Vulkan loader lacks the Vulkan 1.0 functions");
  }
  VkApplicationInfo app = {0, NULL, "singleinsert-probe", 1, NULL, 0, (1u << 22) | (1u << 12)}; // Vulkan 1.1
  VkInstanceCreateInfo ci = {1, NULL, 0, &app, 0, NULL, 0, NULL};
  VkInstance instance = NULL;
  int32_t rc = create(&ci, NULL, &instance);
  if (rc != 0 || !instance) {
    char reason[128];
    snprintf(reason, sizeof reason, "no Vulkan driver could start (vkCreateInstance returned %d)", (int)rc);
    close_vulkan(lib);
    return unavailable(env, reason);
  }
  uint32_t count = 0;
  enumerate(instance, &count, NULL);
  VkPhysicalDevice devices[16];
  if (count > 16) count = 16;
  if (count) enumerate(instance, &count, devices);

  napi_value result, list;
  CHECK(napi_create_object(env, &result));
  CHECK(napi_create_array(env, &list));
  set_bool(env, result, "available", true);
  for (uint32_t i = 0; i < count; i++) {
    VkPhysicalDeviceProperties p;
    VkPhysicalDeviceMemoryProperties m;
    memset(&p, 0, sizeof p);
    memset(&m, 0, sizeof m);
    properties(devices[i], &p);
    memory(devices[i], &m);
    double local = 0;
    for (uint32_t h = 0; h < m.memoryHeapCount && h < 16; h++)
      if (m.memoryHeaps[h].flags & 1u) local += (double)m.memoryHeaps[h].size;
    char api[32];
    snprintf(api, sizeof api, "%u.%u.%u", p.apiVersion >> 22, (p.apiVersion >> 12) & 0x3ffu, p.apiVersion & 0xfffu);
    p.deviceName[255] = 0;
    napi_value d;
    CHECK(napi_create_object(env, &d));
    set_string(env, d, "name", p.deviceName);
    set_number(env, d, "vendorId", (double)p.vendorID);
    set_number(env, d, "deviceId", (double)p.deviceID);
    set_string(env, d, "type", device_type(p.deviceType));
    set_string(env, d, "apiVersion", api);
    set_number(env, d, "maxStorageBufferRange", (double)p.limits.head[7]);
    set_number(env, d, "deviceLocalBytes", local);
    set_number(env, d, "freeBytes", free_device_local(memory2, exts, devices[i], p.apiVersion));
    set_bool(env, d, "float16", computes_in_float16(features2, devices[i], p.apiVersion));
    CHECK(napi_set_element(env, list, i, d));
  }
  CHECK(napi_set_named_property(env, result, "adapters", list));
  destroy(instance, NULL);
  close_vulkan(lib);
  return result;
}
