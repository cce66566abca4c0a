#pragma once
// The CUDA stream camscope's inference runs on, and the events that mark maps ready for the GL
// thread (DESIGN.md: "On CUDA the worker records an event after writing a map; the render thread
// waits on it in its own stream"). LibTorch-free header: handles are void* (cudaStream_t,
// cudaEvent_t).
//
// create(-1), a CPU model, or a build without CUDA gives an inert object: every call is a no-op
// and handle() is null, so callers need no #ifdef. With CUDA the stream comes from LibTorch's
// pool (so its caching allocator knows it) and Scope makes it LibTorch's current stream on the
// calling thread.
#include <memory>

namespace camscope::model {

class DeviceStream {
 public:
  // cuda_device: the model's CUDA device index, or -1 for none (inert).
  static std::unique_ptr<DeviceStream> create(int cuda_device);
  virtual ~DeviceStream() = default;

  virtual bool active() const = 0;   // a real CUDA stream
  virtual void* handle() const = 0;  // cudaStream_t, or null

  // An event (timing disabled) owned by the returned pointer; null when inert. Create one per
  // pooled result, not per frame.
  virtual std::shared_ptr<void> make_event() const = 0;
  // Records `event` (from make_event) on this stream after the work queued so far.
  virtual void record(void* event) const = 0;
  // Waits on the host until the stream's queued work is done.
  virtual void synchronize() const = 0;

  // Makes the stream LibTorch's current one on this thread until destroyed (nothing when
  // inert). Hold it around every LibTorch call of the thread that should run on the stream.
  class Scope {
   public:
    explicit Scope(const DeviceStream* s);
    ~Scope();
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    void* m_guard = nullptr;  // a c10::cuda::CUDAStreamGuard in CUDA builds
  };

 protected:
  DeviceStream() = default;
};

}  // namespace camscope::model
