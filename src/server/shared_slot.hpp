#pragma once
// One shared_ptr that threads read and replace: the current snapshot, runtime settings, TLS contexts.
//
// Readers take a copy only when something changed (a generation counter tells them), so a short lock
// costs nothing measurable. std::atomic<std::shared_ptr> would do the same job, but libstdc++ 12's
// releases its internal lock with a relaxed store, which ThreadSanitizer cannot see as ordering and
// reports as a race; a mutex it sees.
#include <memory>
#include <mutex>
#include <utility>

namespace autodisc::server {

template <typename T>
class SharedSlot {
 public:
  SharedSlot() = default;
  explicit SharedSlot(std::shared_ptr<T> value) : value_(std::move(value)) {}
  SharedSlot(const SharedSlot&) = delete;
  SharedSlot& operator=(const SharedSlot&) = delete;

  std::shared_ptr<T> load() const {
    std::lock_guard lock(mutex_);
    return value_;
  }
  // The previous value is released after the lock, so that its destructor never runs under it.
  void store(std::shared_ptr<T> value) {
    {
      std::lock_guard lock(mutex_);
      value_.swap(value);
    }
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<T> value_;
};

}  // namespace autodisc::server
