#include "actors/http/metrics.hpp"

#include <sstream>

namespace pice::actors::http {

const char* error_kind_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::pipeline: return "pipeline";
    case ErrorKind::timeout: return "timeout";
    case ErrorKind::disconnect: return "disconnect";
  }
  return "unknown";
}

void Metrics::count_response(int status) {
  std::lock_guard lock(mutex_);
  ++responses_[status];
}

void Metrics::count_error(ErrorKind kind) {
  std::lock_guard lock(mutex_);
  ++errors_.at(static_cast<size_t>(kind));
}

void Metrics::observe_answer(double seconds) {
  std::lock_guard lock(mutex_);
  for (size_t i = 0; i < kLatencyBuckets.size(); ++i)
    if (seconds <= kLatencyBuckets[i]) {
      ++buckets_[i];
      break;
    }
  ++latency_count_;
  latency_sum_ += seconds;
}

uint64_t Metrics::responses(int status) const {
  std::lock_guard lock(mutex_);
  auto it = responses_.find(status);
  return it == responses_.end() ? 0 : it->second;
}

std::string Metrics::render(int inflight) const {
  std::lock_guard lock(mutex_);
  std::ostringstream out;
  out << "# HELP pice_http_requests_total HTTP responses sent, by status code.\n"
         "# TYPE pice_http_requests_total counter\n";
  for (const auto& [status, n] : responses_) out << "pice_http_requests_total{code=\"" << status << "\"} " << n << "\n";

  out << "# HELP pice_http_inflight_requests Chat completions whose answer is still being produced.\n"
         "# TYPE pice_http_inflight_requests gauge\n"
      << "pice_http_inflight_requests " << inflight << "\n";

  out << "# HELP pice_http_connections Open HTTP connections.\n"
         "# TYPE pice_http_connections gauge\n"
      << "pice_http_connections " << connections_.load() << "\n";

  out << "# HELP pice_http_errors_total Chat completions without a delivered answer, by cause.\n"
         "# TYPE pice_http_errors_total counter\n";
  for (auto kind : {ErrorKind::pipeline, ErrorKind::timeout, ErrorKind::disconnect})
    out << "pice_http_errors_total{kind=\"" << error_kind_name(kind) << "\"} " << errors_[static_cast<size_t>(kind)]
        << "\n";

  out << "# HELP pice_http_answer_latency_seconds Time from a chat completion request to its complete answer.\n"
         "# TYPE pice_http_answer_latency_seconds histogram\n";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kLatencyBuckets.size(); ++i) {
    cumulative += buckets_[i];
    out << "pice_http_answer_latency_seconds_bucket{le=\"" << kLatencyBuckets[i] << "\"} " << cumulative << "\n";
  }
  out << "pice_http_answer_latency_seconds_bucket{le=\"+Inf\"} " << latency_count_ << "\n"
      << "pice_http_answer_latency_seconds_sum " << latency_sum_ << "\n"
      << "pice_http_answer_latency_seconds_count " << latency_count_ << "\n";
  return out.str();
}

}  // namespace pice::actors::http
