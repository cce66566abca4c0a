#pragma once
// Mesa's llvmpipe vs a second LLVM in the process. LibTorch 2.x as Debian builds it exports a
// private LLVM's C API (LLVMInitializeX86Target, ...). When such a library is in the process's
// global symbol scope (linked into the executable), llvmpipe binds its LLVM calls to that copy
// and crashes in eglCreateContext/glXCreateContext. The camscope program avoids this by being
// loaded RTLD_LOCAL (app/launcher.cpp); processes that link LibTorch directly (tests, benches)
// call this before creating a GL context: it switches Mesa to softpipe (GALLIUM_DRIVER) with a
// log line, unless the user chose a driver. Harmless for non-Mesa drivers.
#include <string>

namespace camscope::gl {

// The library outside libLLVM that exports LLVM's target initializers into the global scope,
// or "" when none does.
std::string foreign_llvm_in_global_scope();

// Applies the fallback described above once per process. Returns true if it set
// GALLIUM_DRIVER=softpipe.
bool guard_llvm_interposition();

}  // namespace camscope::gl
