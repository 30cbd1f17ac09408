-- helpers.lua: the kernel helpers the compiler calls, by id, with their
-- argument kinds (the same ids and shapes as stdlib/helpers.c's table).

_ENV = nil

return {
  map_lookup_elem = { id = 1, args = { "map", "key" }, ret = "map_value_or_null" },
  map_update_elem = { id = 2, args = { "map", "key", "value", "anything" }, ret = "int" },
  map_delete_elem = { id = 3, args = { "map", "key" }, ret = "int" },
  ktime_get_ns = { id = 5, args = {}, ret = "int" },
  trace_printk = { id = 6, args = { "mem", "size", "anything", "anything", "anything" }, ret = "int" },
  get_prandom_u32 = { id = 7, args = {}, ret = "int" },
  get_smp_processor_id = { id = 8, args = {}, ret = "int" },
  ringbuf_output = { id = 130, args = { "map", "mem", "size", "flags" }, ret = "int" },
  for_each_map_elem = { id = 164, args = { "map", "func", "stack_or_null", "flags" }, ret = "int" },
  loop = { id = 181, args = { "count", "func", "stack_or_null", "flags" }, ret = "int" },
}
