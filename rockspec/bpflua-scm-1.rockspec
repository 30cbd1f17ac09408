-- bpflua: a restricted Lua dialect compiled to eBPF, with a verifier,
-- interpreter and x86-64 JIT. Installs the `bpf` module (bpf.so), the
-- compiler's Lua modules (bpflua.*) and the `bpflua` command.
--
-- From a checkout (no rocks server needed; LPeg from the system):
--   luarocks --lua-version 5.4 make --deps-mode=none rockspec/bpflua-scm-1.rockspec
rockspec_format = "3.0"
package = "bpflua"
version = "scm-1"

source = {
   -- `luarocks make` builds the checkout it runs in; this is where a
   -- packaged release would be fetched from.
   url = "git+file://./",
}

description = {
   summary = "Lua loops compiled to eBPF: verifier, interpreter, JIT and ELF objects for libbpf",
   detailed = [[
bpflua compiles a strict subset of Lua 5.4 to eBPF XDP programs, turning
every `for` loop into a bpf_loop call. Its C engine verifies the bytecode,
runs it in an interpreter or an x86-64 JIT, and writes ELF objects that
libbpf and the Linux kernel load. `require "bpf"` gives compile, verify,
run, disassemble and map access from Lua; `bpflua` is the command and REPL.
]],
   license = "MIT",
   labels = { "ebpf", "bpf", "xdp", "compiler", "jit" },
}

dependencies = {
   "lua >= 5.4",
   "lpeg",
}

external_dependencies = {
   LIBELF = { header = "libelf.h" },
   LIBBPF = { header = "bpf/libbpf.h" },
   LIBEDIT = { header = "editline/readline.h" },
}

build = {
   type = "cmake",
   variables = {
      CMAKE_BUILD_TYPE = "Release",
      CMAKE_INSTALL_PREFIX = "$(PREFIX)",
      BPFLUA_TESTS = "OFF",
      BPFLUA_LUA_CDIR = "$(LIBDIR)",
      BPFLUA_LUA_DIR = "$(LUADIR)",
   },
}
