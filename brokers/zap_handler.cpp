#include "brokers/zap_handler.hpp"

#include <spdlog/spdlog.h>

#include <iterator>
#include <map>
#include <mutex>
#include <thread>
#include <vector>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "brokers/context.hpp"

namespace pice::brokers {
namespace {

constexpr const char* kZapEndpoint = "inproc://zeromq.zap.01";   // fixed by RFC 27
constexpr const char* kZapVersion = "1.0";
// A refused board retries; its rejection is logged once per (domain, key, address) and only counted
// afterwards. Past this many distinct refusals new ones are counted without a line of their own, so a
// peer cycling through keys cannot grow the set without bound.
constexpr size_t kMaxLoggedRefusals = 4096;

struct Request {
  std::string request_id, domain, address, mechanism, credentials;
};

std::string z85(const std::string& binary_key) {
  if (binary_key.size() != 32) return "(a " + std::to_string(binary_key.size()) + "-byte key)";
  char text[41] = {};
  zmq_z85_encode(text, reinterpret_cast<const uint8_t*>(binary_key.data()), binary_key.size());
  return text;
}

class ZapHandler {
 public:
  static ZapHandler& instance() {
    // Never destroyed, like the context: its thread serves handshakes until the process exits.
    static ZapHandler* const handler = new ZapHandler();
    return *handler;
  }

  void add(const std::shared_ptr<AccessList>& access) {
    std::lock_guard lock(mutex_);
    domains_[access->domain()] = access;
  }

 private:
  ZapHandler() : socket_(shared_context(), zmq::socket_type::rep) {
    socket_.set(zmq::sockopt::linger, 0);
    socket_.bind(kZapEndpoint);   // before any server socket can hand it a handshake
    std::thread([this] { serve(); }).detach();
  }

  void serve() {
    while (true) {
      try {
        std::vector<zmq::message_t> frames;
        if (!zmq::recv_multipart(socket_, std::back_inserter(frames))) continue;
        const std::vector<std::string> reply = answer(frames);
        for (size_t i = 0; i < reply.size(); ++i)
          socket_.send(zmq::buffer(reply[i]), i + 1 < reply.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
      } catch (const zmq::error_t& e) {
        if (e.num() == EINTR) continue;
        spdlog::critical("ZAP handler stopped: {}; CURVE handshakes will fail", e.what());
        return;
      }
    }
  }

  std::vector<std::string> answer(const std::vector<zmq::message_t>& frames) {
    // version, request id, domain, address, routing id, mechanism, credentials...
    if (frames.size() < 6 || frames[0].to_string() != kZapVersion) {
      spdlog::error("ZAP handler: malformed request ({} frames); refused", frames.size());
      return {kZapVersion, frames.size() > 1 ? frames[1].to_string() : "", "500", "malformed ZAP request", "", ""};
    }
    Request request{frames[1].to_string(), frames[2].to_string(), frames[3].to_string(), frames[5].to_string(),
                    frames.size() > 6 ? frames[6].to_string() : ""};
    std::shared_ptr<AccessList> access = lookup(request.domain);
    if (request.mechanism != "CURVE") return refuse(request, access, "mechanism " + request.mechanism + " is not CURVE");
    if (!access) return refuse(request, access, "no node serves this domain");
    const std::string key = z85(request.credentials);
    if (!access->allows(key)) return refuse(request, access, "public key " + key + " is not in security.allowed_keys");
    spdlog::debug("{}: accepted a CURVE client with public key {} from {}", request.domain, key, request.address);
    return {kZapVersion, request.request_id, "200", "OK", key, ""};
  }

  std::shared_ptr<AccessList> lookup(const std::string& domain) {
    std::lock_guard lock(mutex_);
    auto it = domains_.find(domain);
    if (it == domains_.end()) return nullptr;
    auto access = it->second.lock();
    if (!access) domains_.erase(it);
    return access;
  }

  std::vector<std::string> refuse(const Request& request, const std::shared_ptr<AccessList>& access,
                                  const std::string& why) {
    if (access) access->count_rejection();
    const std::string key = request.domain + '\n' + request.credentials + '\n' + request.address;
    if (logged_.size() < kMaxLoggedRefusals && logged_.insert(key).second)
      spdlog::warn("{}: refused a connection from {}: {}", request.domain.empty() ? "(no domain)" : request.domain,
                   request.address, why);
    return {kZapVersion, request.request_id, "400", "not allowed", "", ""};
  }

  zmq::socket_t socket_;   // the handler thread's only, once constructed
  std::mutex mutex_;
  std::map<std::string, std::weak_ptr<AccessList>> domains_;
  std::set<std::string> logged_;   // handler thread only
};

}  // namespace

void zap_register(const std::shared_ptr<AccessList>& access) { ZapHandler::instance().add(access); }

}  // namespace pice::brokers
