#include "kernels/thread_pool.hpp"

#include <algorithm>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace pice::kernels {
namespace {

// About 100 us of spinning on a current x86 core before a worker sleeps: longer than the gap between
// two matmuls of a decode step, far shorter than the gap between two requests.
constexpr int kSpinsBeforeSleep = 4000;

inline void cpu_relax() {
#if defined(__x86_64__)
  _mm_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

}  // namespace

ThreadPool::ThreadPool(int threads) {
  const int n = std::clamp(threads, 1, 256);
  for (int i = 1; i < n; ++i) workers_.emplace_back([this] { work(); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true);
  generation_.fetch_add(1, std::memory_order_release);
  generation_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ThreadPool::for_each(int count, int grain, const Body& body) {
  if (count <= 0) return;
  grain = std::max(grain, 1);
  if (workers_.empty() || count <= grain) {
    for (int b = 0; b < count; b += grain) body(b, std::min(b + grain, count));
    return;
  }
  std::lock_guard lock(submit_);
  body_ = &body;
  count_ = count;
  grain_ = grain;
  next_.store(0, std::memory_order_relaxed);
  busy_.store(static_cast<int>(workers_.size()), std::memory_order_relaxed);
  generation_.fetch_add(1, std::memory_order_release);
  generation_.notify_all();
  run_pieces();
  // A worker that was descheduled still has to check in before body_ may change: yield to it now and
  // then rather than spin against it on a crowded machine.
  for (int spins = 0; busy_.load(std::memory_order_acquire) != 0; ++spins) {
    if (spins % 256 == 255) {
      std::this_thread::yield();
    } else {
      cpu_relax();
    }
  }
}

void ThreadPool::run_pieces() {
  for (;;) {
    const int begin = next_.fetch_add(grain_, std::memory_order_relaxed);
    if (begin >= count_) return;
    (*body_)(begin, std::min(begin + grain_, count_));
  }
}

void ThreadPool::work() {
  uint64_t seen = 0;
  for (;;) {
    uint64_t now = generation_.load(std::memory_order_acquire);
    for (int i = 0; now == seen && i < kSpinsBeforeSleep; ++i) {
      cpu_relax();
      now = generation_.load(std::memory_order_acquire);
    }
    if (now == seen) {
      generation_.wait(seen, std::memory_order_acquire);
      continue;
    }
    seen = now;
    if (stop_.load()) return;
    run_pieces();
    busy_.fetch_sub(1, std::memory_order_release);
  }
}

}  // namespace pice::kernels
