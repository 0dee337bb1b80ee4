#pragma once
// A node and an HTTP gateway in front of it, in the test process: the set-up the HTTP tests share.
#include <memory>
#include <stdexcept>
#include <string>

#include "actors/http/http_gateway.hpp"
#include "actors/node.hpp"
#include "config/node_config.hpp"
#include "tests/common/process.hpp"

namespace pice::testing {

class GatewayNode {
 public:
  // Starts the node, waits until it knows `boards` edges (its local ones), then opens the gateway on a
  // free port (options.port is ignored). Throws when the edges do not appear in time.
  GatewayNode(const config::NodeConfig& config, int boards, actors::http::HttpOptions options = {})
      : node_(actors::Node::start(config)) {
    if (!wait_until([&] { return node_->known_boards() == boards; }, std::chrono::seconds(30))) {
      node_->stop();
      throw std::runtime_error("the node did not see its " + std::to_string(boards) + " edges within 30 s");
    }
    options.port = 0;
    gateway_ = std::make_unique<actors::http::HttpGateway>(options, node_->gateway_endpoint());
    gateway_->start();
  }
  ~GatewayNode() {
    gateway_.reset();  // first: it talks to the node
    node_->stop();
  }
  GatewayNode(const GatewayNode&) = delete;
  GatewayNode& operator=(const GatewayNode&) = delete;

  int port() const { return gateway_->port(); }
  actors::Node& node() { return *node_; }

 private:
  std::unique_ptr<actors::Node> node_;
  std::unique_ptr<actors::http::HttpGateway> gateway_;
};

}  // namespace pice::testing
