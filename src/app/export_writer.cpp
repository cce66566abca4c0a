#include "app/export_writer.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include "explain/overlay_blend.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/npy.h"

namespace camscope::app {
namespace {

using Clock = std::chrono::steady_clock;

// 'text' for /bin/sh, with embedded single quotes closed, escaped and reopened.
std::string shell_quote(const std::string& text) {
  std::string q = "'";
  for (char c : text) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// Bilinear resize of RGB8 (align_corners = false, no antialiasing), for folders whose frames
// differ in size from the video's first frame.
void resize_rgb(const uint8_t* src, int sw, int sh, uint8_t* dst, int dw, int dh) {
  const float kx = static_cast<float>(sw) / dw, ky = static_cast<float>(sh) / dh;
  for (int y = 0; y < dh; ++y) {
    const float fy = std::max(0.f, (y + 0.5f) * ky - 0.5f);
    const int y0 = std::min(static_cast<int>(fy), sh - 1), y1 = std::min(y0 + 1, sh - 1);
    const float wy = fy - y0;
    for (int x = 0; x < dw; ++x) {
      const float fx = std::max(0.f, (x + 0.5f) * kx - 0.5f);
      const int x0 = std::min(static_cast<int>(fx), sw - 1), x1 = std::min(x0 + 1, sw - 1);
      const float wx = fx - x0;
      for (int c = 0; c < 3; ++c) {
        auto at = [&](int yy, int xx) { return static_cast<float>(src[(yy * sw + xx) * 3 + c]); };
        const float v = (1 - wy) * ((1 - wx) * at(y0, x0) + wx * at(y0, x1)) +
                        wy * ((1 - wx) * at(y1, x0) + wx * at(y1, x1));
        dst[(y * dw + x) * 3 + c] =
            static_cast<uint8_t>(std::min(255.f, std::max(0.f, std::nearbyint(v))));
      }
    }
  }
}

// Raw RGB frames into the ffmpeg CLI (H.264), which writes ".overlay.mp4.partial"; renamed to
// overlay.mp4 once ffmpeg has finished it. ffmpeg runs in its own session so a Ctrl-C meant for
// camscope does not cut the video short: camscope stops, then closes the pipe.
class Mp4Pipe {
 public:
  Mp4Pipe(const std::string& path, int width, int height, double fps)
      : m_path(path), m_partial(partial_path(path)), m_width(width), m_height(height) {
    // yuv420p needs even sizes: pad by one pixel when odd rather than resizing the frames.
    char rate[64];
    std::snprintf(rate, sizeof rate, "%.6f", fps > 0 ? fps : 25.0);
    const std::string cmd =
        "exec setsid ffmpeg -nostdin -hide_banner -loglevel error -y -f rawvideo -pix_fmt rgb24 "
        "-s " +
        std::to_string(width) + "x" + std::to_string(height) + " -r " + rate +
        " -i - -vf 'pad=ceil(iw/2)*2:ceil(ih/2)*2' -c:v libx264 -pix_fmt yuv420p -f mp4 " +
        shell_quote(m_partial);
    m_pipe = ::popen(cmd.c_str(), "w");
    if (!m_pipe) throw Error("cannot start ffmpeg to write " + path);
  }
  ~Mp4Pipe() {
    if (m_pipe) {
      ::pclose(m_pipe);
      std::remove(m_partial.c_str());
    }
  }
  void write(const uint8_t* rgb, int width, int height) {
    const uint8_t* p = rgb;
    if (width != m_width || height != m_height) {
      m_resized.resize(static_cast<size_t>(m_width) * m_height * 3);
      resize_rgb(rgb, width, height, m_resized.data(), m_width, m_height);
      p = m_resized.data();
    }
    const size_t n = static_cast<size_t>(m_width) * m_height * 3;
    if (std::fwrite(p, 1, n, m_pipe) != n)
      throw Error("ffmpeg stopped accepting frames for " + m_path + " (is ffmpeg installed?)");
  }
  void close() {
    const int st = ::pclose(m_pipe);
    m_pipe = nullptr;
    if (st != 0) {
      std::remove(m_partial.c_str());
      throw Error("ffmpeg failed to write " + m_path + " (exit status " + std::to_string(st) + ")");
    }
    if (std::rename(m_partial.c_str(), m_path.c_str()) != 0)
      throw Error("cannot write " + m_path);
  }

 private:
  std::string m_path, m_partial;
  int m_width, m_height;
  FILE* m_pipe = nullptr;
  std::vector<uint8_t> m_resized;
};

}  // namespace

struct ExportWriter::Impl {
  ExportWriterOptions opt;
  std::mutex mutex;
  std::condition_variable cv_work, cv_space;
  std::deque<std::unique_ptr<ExportJob>> todo;
  std::map<int64_t, std::unique_ptr<ExportJob>> done;  // by sequence number
  std::map<const ExportJob*, int64_t> seq_of;
  int64_t next_seq = 0, next_commit = 0, in_flight = 0;
  bool committing = false, stopping = false;
  std::exception_ptr error;
  std::vector<std::thread> threads;
  std::unique_ptr<Mp4Pipe> mp4;
  void (*old_sigpipe)(int) = SIG_DFL;

  std::string in_out(const std::string& name) const {
    return (std::filesystem::path(opt.out_dir) / name).string();
  }

  // Encodes and writes one frame's files (any thread, in parallel).
  void write_files(ExportJob& j, std::vector<uint8_t>& buf) {
    if (j.skipped) return;
    encode_npy(j.map.data(), {j.map_h, j.map_w}, buf);
    write_file_atomic(in_out(format_index("cam_%06d.npy", j.index)), buf.data(), buf.size());
    if (!j.raw.empty()) {
      encode_npy(j.raw.data(), j.raw_shape, buf);
      write_file_atomic(in_out(format_index("raw_%06d.npy", j.index)), buf.data(), buf.size());
    }
    if (opt.overlay == OverlayKind::None || j.rgb.empty()) return;
    explain::blend_overlay(j.rgb.data(), j.width, j.height, j.map.data(), j.map_w, j.map_h,
                           opt.lut_rgba, opt.alpha, j.geometry, j.rgb.data());
    if (opt.overlay == OverlayKind::Png) {
      encode_png(j.rgb.data(), j.width, j.height, 3, opt.png, buf);
      write_file_atomic(in_out(format_index("overlay_%06d.png", j.index)), buf.data(), buf.size());
    } else if (opt.overlay == OverlayKind::Jpg) {
      encode_jpeg(j.rgb.data(), j.width, j.height, opt.jpeg_quality, buf);
      write_file_atomic(in_out(format_index("overlay_%06d.jpg", j.index)), buf.data(), buf.size());
    }
    // Mp4: the blended frame goes to ffmpeg at commit time, in order.
  }

  void commit(ExportJob& j) {
    if (opt.overlay == OverlayKind::Mp4 && !j.skipped && !j.rgb.empty()) {
      if (!mp4) mp4 = std::make_unique<Mp4Pipe>(in_out("overlay.mp4"), j.width, j.height, opt.mp4_fps);
      mp4->write(j.rgb.data(), j.width, j.height);
    }
    if (opt.on_commit) opt.on_commit(j);
  }

  void fail(std::exception_ptr e) {
    std::lock_guard<std::mutex> lock(mutex);
    if (!error) error = e;
    stopping = true;
    todo.clear();
    cv_work.notify_all();
    cv_space.notify_all();
  }

  void run() {
    // The writers yield to the model's threads: on a machine with few cores a writer that
    // preempts one of the model's OpenMP threads stalls the whole team at its next barrier.
    // Throughput is unchanged when the writers are the bottleneck (the model then waits).
    const auto tid = static_cast<id_t>(::syscall(SYS_gettid));
    errno = 0;
    const int nice_now = ::getpriority(PRIO_PROCESS, tid);
    if (errno == 0) ::setpriority(PRIO_PROCESS, tid, std::min(19, nice_now + 5));
    std::vector<uint8_t> buf;
    while (true) {
      std::unique_ptr<ExportJob> job;
      int64_t seq;
      {
        std::unique_lock<std::mutex> lock(mutex);
        cv_work.wait(lock, [&] { return stopping || !todo.empty(); });
        if (todo.empty()) return;
        job = std::move(todo.front());
        todo.pop_front();
        seq = seq_of[job.get()];
        seq_of.erase(job.get());
      }
      try {
        const auto t0 = Clock::now();
        write_files(*job, buf);
        if (!job->skipped && job->entry.contains("timings_ms"))
          job->entry["timings_ms"]["write"] =
              std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      } catch (...) {
        fail(std::current_exception());
        return;
      }
      {
        std::lock_guard<std::mutex> lock(mutex);
        if (error) return;
        done[seq] = std::move(job);
        if (committing) continue;
        committing = true;
      }
      // This thread commits every frame that is ready, in order; the others keep encoding.
      while (true) {
        std::unique_ptr<ExportJob> next;
        {
          std::lock_guard<std::mutex> lock(mutex);
          auto it = done.find(next_commit);
          if (error || it == done.end()) {
            committing = false;
            break;
          }
          next = std::move(it->second);
          done.erase(it);
        }
        try {
          commit(*next);
        } catch (...) {
          {
            std::lock_guard<std::mutex> lock(mutex);
            committing = false;
          }
          fail(std::current_exception());
          return;
        }
        std::lock_guard<std::mutex> lock(mutex);
        ++next_commit;
        --in_flight;
        cv_space.notify_all();
      }
    }
  }
};

ExportWriter::ExportWriter(ExportWriterOptions opt) : m(std::make_unique<Impl>()) {
  m->opt = std::move(opt);
  m->opt.threads = std::max(1, m->opt.threads);
  m->opt.capacity = std::max(m->opt.capacity, m->opt.threads);
  // A dead ffmpeg must turn into an error message, not a SIGPIPE that kills us.
  if (m->opt.overlay == OverlayKind::Mp4) m->old_sigpipe = ::signal(SIGPIPE, SIG_IGN);
  for (int i = 0; i < m->opt.threads; ++i) m->threads.emplace_back([this] { m->run(); });
}

ExportWriter::~ExportWriter() {
  {
    std::lock_guard<std::mutex> lock(m->mutex);
    m->stopping = true;
    m->todo.clear();
    m->cv_work.notify_all();
  }
  for (auto& t : m->threads)
    if (t.joinable()) t.join();
  m->mp4.reset();
  if (m->opt.overlay == OverlayKind::Mp4) ::signal(SIGPIPE, m->old_sigpipe);
}

void ExportWriter::submit(ExportJob job) {
  std::unique_lock<std::mutex> lock(m->mutex);
  m->cv_space.wait(lock, [&] { return m->error || m->in_flight < m->opt.capacity; });
  if (m->error) std::rethrow_exception(m->error);
  auto p = std::make_unique<ExportJob>(std::move(job));
  m->seq_of[p.get()] = m->next_seq++;
  ++m->in_flight;
  m->todo.push_back(std::move(p));
  m->cv_work.notify_one();
}

void ExportWriter::finish() {
  {
    std::unique_lock<std::mutex> lock(m->mutex);
    m->cv_space.wait(lock, [&] { return m->error || m->in_flight == 0; });
    m->stopping = true;
    m->cv_work.notify_all();
  }
  for (auto& t : m->threads)
    if (t.joinable()) t.join();
  if (m->error) std::rethrow_exception(m->error);
  if (m->mp4) {
    auto mp4 = std::move(m->mp4);
    mp4->close();
  }
}

int64_t ExportWriter::committed() const {
  std::lock_guard<std::mutex> lock(m->mutex);
  return m->next_commit;
}

}  // namespace camscope::app
