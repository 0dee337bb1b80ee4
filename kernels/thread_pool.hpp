#pragma once
// A fixed set of threads that split one loop between them: the matmuls and attention of a forward
// pass. The caller's thread works too, so a pool of n threads starts n - 1 workers (n = 1: none, the
// loop runs inline). A decode step issues hundreds of short loops, so idle workers spin briefly before
// they sleep: a sleeping thread takes tens of microseconds to wake, as long as a small matmul.
//
// Thread-safe: loops from several threads (two sequences on one model) run one after the other.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace pice::kernels {

class ThreadPool {
 public:
  explicit ThreadPool(int threads);   // clamped to 1..256
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int threads() const { return static_cast<int>(workers_.size()) + 1; }

  // Calls body(begin, end) over [0, count) in pieces of `grain` (the last may be shorter), on all
  // threads, and returns when every piece is done. Pieces are taken first come first served, so a
  // thread slowed by a neighbour takes fewer. body must not throw and must not call for_each itself.
  using Body = std::function<void(int begin, int end)>;
  void for_each(int count, int grain, const Body& body);

 private:
  void work();
  void run_pieces();

  std::vector<std::thread> workers_;
  std::mutex submit_;                  // one loop at a time
  const Body* body_ = nullptr;
  int count_ = 0, grain_ = 1;
  std::atomic<int> next_{0};           // the next piece's begin
  std::atomic<int> busy_{0};           // workers still in the current loop
  std::atomic<uint64_t> generation_{0};   // bumped once per loop; workers wait for it to change
  std::atomic<bool> stop_{false};
};

}  // namespace pice::kernels
