// N-API helpers the probes share: set a property, or say a library is unavailable.
#ifndef GPU_PROBE_NAPI_HELPERS_H
#define GPU_PROBE_NAPI_HELPERS_H
#include <node_api.h>
#include <stdbool.h>

#define CHECK(call)                                                   \
  do {                                                                \
    if ((call) != napi_ok) {                                          \
      napi_throw_error(env, NULL, "gpu_probe: N-API call failed");    \
      return NULL;                                                    \
    }                                                                 \
  } while (0)

static inline napi_value set_string(napi_env env, napi_value obj, const char *key, const char *value) {
  napi_value v;
  CHECK(napi_create_string_utf8(env, value, NAPI_AUTO_LENGTH, &v));
  CHECK(napi_set_named_property(env, obj, key, v));
  return obj;
}

static inline napi_value set_number(napi_env env, napi_value obj, const char *key, double value) {
  napi_value v;
  CHECK(napi_create_double(env, value, &v));
  CHECK(napi_set_named_property(env, obj, key, v));
  return obj;
}

static inline napi_value set_bool(napi_env env, napi_value obj, const char *key, bool value) {
  napi_value v;
  CHECK(napi_get_boolean(env, value, &v));
  CHECK(napi_set_named_property(env, obj, key, v));
  return obj;
}

static inline napi_value unavailable(napi_env env, const char *reason) {
  napi_value result;
  CHECK(napi_create_object(env, &result));
  set_bool(env, result, "available", false);
  set_string(env, result, "reason", reason);
  return result;
}


napi_value vulkan_adapters(napi_env env, napi_callback_info info);

#endif
