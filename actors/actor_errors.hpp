#pragma once
// CAF 0.17 ends an actor whose handler throws, and says nothing. Every actor of ours installs this
// handler first, so such a death is at least logged with the actor's name and the reason.
#include <spdlog/spdlog.h>

#include <caf/all.hpp>

namespace pice::actors {

inline void log_exceptions(caf::event_based_actor* self, const char* name) {
  self->set_exception_handler([name](caf::scheduled_actor*, std::exception_ptr& eptr) -> caf::error {
    try {
      std::rethrow_exception(eptr);
    } catch (const std::exception& e) {
      spdlog::error("actor '{}' stopped by an exception: {}", name, e.what());
    } catch (...) {
      spdlog::error("actor '{}' stopped by an unknown exception", name);
    }
    return caf::make_error(caf::sec::runtime_error);
  });
}

}  // namespace pice::actors
