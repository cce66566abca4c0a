// camscope: the executable is a launcher that loads the program, libcamscope_app.so beside it,
// with RTLD_LOCAL and calls its camscope_main().
//
// Why: LibTorch 2.x as Debian builds it (libtorch_cpu.so.2.6) exports a private copy of LLVM's
// C API (LLVMInitializeX86Target and ~600 more). Linked into the executable, those symbols sit
// in the process's global scope, and Mesa's llvmpipe — loaded later by libEGL/libGL — binds its
// own LLVM calls to them: its targets get registered in LibTorch's LLVM 17 instead of its
// LLVM 19, and eglCreateContext / glXCreateContext crash. Loaded RTLD_LOCAL, LibTorch stays out
// of the global scope and each library keeps its own LLVM, so software GL runs at full speed.
// (Processes that link LibTorch directly, like the test programs, fall back to softpipe with a
// log line instead: render/llvm_guard.h.)
#include <dlfcn.h>
#include <limits.h>
#include <unistd.h>

#include <cstdio>
#include <string>

int main(int argc, char** argv) {
  char self[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  std::string dir = n > 0 ? std::string(self, static_cast<size_t>(n)) : std::string(argv[0]);
  const auto slash = dir.rfind('/');
  dir = slash == std::string::npos ? "./" : dir.substr(0, slash + 1);
  const std::string lib = dir + "libcamscope_app.so";
  void* h = ::dlopen(lib.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    std::fprintf(stderr, "camscope: error: cannot load %s: %s\n", lib.c_str(), ::dlerror());
    return 1;
  }
  using Main = int (*)(int, char**);
  auto fn = reinterpret_cast<Main>(::dlsym(h, "camscope_main"));
  if (!fn) {
    std::fprintf(stderr, "camscope: error: %s has no camscope_main\n", lib.c_str());
    return 1;
  }
  const int status = fn(argc, argv);
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
  // Batch commands are done once camscope_main returns (files closed, output written): skip
  // the exit-time destructors of LibTorch and the ~350 libraries loaded with it, which cost
  // 0.1-0.7 s of every `camscope export` / `info` run (LibTorch unregisters every operator).
  // The window (`view`, the default command) exits normally.
  const std::string cmd = argc > 1 ? argv[1] : "";
  if (cmd == "export" || cmd == "info" || cmd == "bench" || cmd == "synth" || cmd == "--version" ||
      cmd == "--help" || cmd == "-h" || cmd == "help") {
    std::fflush(nullptr);
    ::_exit(status);
  }
#endif
  return status;
}
