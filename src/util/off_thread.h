#pragma once
// Runs a function on a short-lived thread and waits for it, rethrowing what it threw.
//
// Why: LibTorch's CPU kernels use OpenMP, and libgomp keeps a pool of team threads for every
// thread that has ever started a parallel region. Once more pool threads exist than cores,
// libgomp throttles every team to a few spins before sleeping at each barrier, so each of the
// ~60 parallel regions of a forward pass pays a futex wake-up. Measured on 2 cores: resnet18's
// forward on the inference worker took 24 ms, and 31 ms once the GL thread had run a single
// forward (a pure-OpenMP loop from a second thread: 2.6x slower). Torch work that has to happen
// outside the worker (loading a model synchronously for the CLI) runs here instead: the pool
// leaves with the thread, and the worker stays the process's only OpenMP master.
#include <exception>
#include <thread>
#include <utility>

namespace camscope {

template <typename Fn>
void run_off_thread(Fn&& fn) {
  std::exception_ptr error;
  std::thread t([&] {
    try {
      fn();
    } catch (...) {
      error = std::current_exception();
    }
  });
  t.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace camscope
