#pragma once
// The cloud model as the router ([scheduler] router = "llm"): asked whether a question's answer is a
// list of independent points, it answers yes or no, and that decides the request's path as the rules
// router's decision would. An answer that is neither leaves the decision to the rules router.
#include <optional>
#include <string>
#include <string_view>

#include "actors/router.hpp"

namespace pice::actors {

// The question put to the cloud model (as a direct answer of a few tokens, greedy).
std::string llm_router_prompt(const std::string& question);
constexpr int kLlmRouterTokens = 4;

// Its answer read: a first word "yes" is progressive, "no" is direct (case and punctuation aside);
// nullopt for anything else.
std::optional<RouteDecision> llm_route_decision(std::string_view answer);

}  // namespace pice::actors
