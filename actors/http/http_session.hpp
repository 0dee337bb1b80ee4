#pragma once
// One HTTP connection (internal to actors/http/). Serves keep-alive requests one after another;
// chat completions wait for their answer chunks without holding a thread.
#include <boost/asio/ip/tcp.hpp>

namespace pice::actors::http {

struct ServerContext;

// Takes the accepted socket (whose executor should be a strand) and serves it until the client
// leaves; the session keeps itself alive.
void start_session(boost::asio::ip::tcp::socket socket, ServerContext& context);

}  // namespace pice::actors::http
