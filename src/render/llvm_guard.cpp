#include "render/llvm_guard.h"

#include <dlfcn.h>

#include <cstdlib>
#include <mutex>

#include "util/log.h"

namespace camscope::gl {

std::string foreign_llvm_in_global_scope() {
  // The symbol llvmpipe's start-up calls first (through LLVMInitializeNativeTarget), looked up
  // in the global scope only — what Mesa's libraries see. (RTLD_DEFAULT would also search this
  // library's own local scope, where the launcher's RTLD_LOCAL LibTorch is, harmlessly.)
  void* global = ::dlopen(nullptr, RTLD_NOW);
  if (!global) return "";
  void* sym = ::dlsym(global, "LLVMInitializeX86Target");
  if (!sym) sym = ::dlsym(global, "LLVMInitializeAArch64Target");
  ::dlclose(global);
  if (!sym) return "";
  Dl_info info{};
  if (!::dladdr(sym, &info) || !info.dli_fname) return "an unknown library";
  const std::string lib = info.dli_fname;
  const auto slash = lib.rfind('/');
  const std::string base = slash == std::string::npos ? lib : lib.substr(slash + 1);
  if (base.rfind("libLLVM", 0) == 0) return "";  // the system's LLVM itself: what Mesa uses
  return base;
}

bool guard_llvm_interposition() {
  static std::once_flag once;
  static bool applied = false;
  std::call_once(once, [] {
    const std::string lib = foreign_llvm_in_global_scope();
    if (lib.empty()) return;
    if (const char* d = std::getenv("GALLIUM_DRIVER"); d && *d) {
      log::note("GALLIUM_DRIVER=" + std::string(d) + " kept, although " + lib +
                " exports LLVM symbols that Mesa's llvmpipe would bind to");
      return;
    }
    ::setenv("GALLIUM_DRIVER", "softpipe", 0);
    applied = true;
    log::note(lib + " exports its own LLVM, which would crash Mesa's llvmpipe in this process: "
              "using softpipe (slower; the camscope program itself is not affected)");
  });
  return applied;
}

}  // namespace camscope::gl
