// The general validator on its own, with a schema unrelated to NodeConfig.
#include <gtest/gtest.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "config/toml_schema.hpp"

namespace pice::config {
namespace {

struct Server {
  std::string host;
  std::string url;
  int16_t port = 0;
  double ratio = 0;
  bool has_limits = false;
  int limit = 0;
};

std::vector<TableRule> server_schema(Server& s) {
  return {
      {"server",
       {KeyRule::text("host", &s.host).required(), KeyRule::text("url", &s.url).starts_with({"http://", "https://"}, "URL"),
        KeyRule::integer("port", &s.port, 1, 32767), KeyRule::number("ratio", &s.ratio, -1, 1)},
       true},
      {"limits", {KeyRule::integer("limit", &s.limit, 0, 10)}, false, &s.has_limits},
  };
}

std::string problem_of(const std::string& text) {
  Server s;
  try {
    apply_schema(toml::parse(std::string_view(text), std::string_view("s.toml")), server_schema(s), "s.toml");
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "accepted";
}

TEST(TomlSchema, StoresValidValuesThroughTheRules) {
  Server s;
  apply_schema(toml::parse("[server]\nhost = \"h\"\nurl = \"https://x\"\nport = 8080\nratio = -0.5\n[limits]\nlimit = 3\n"),
               server_schema(s), "s.toml");
  EXPECT_EQ(s.host, "h");
  EXPECT_EQ(s.url, "https://x");
  EXPECT_EQ(s.port, 8080);
  EXPECT_DOUBLE_EQ(s.ratio, -0.5);
  EXPECT_TRUE(s.has_limits);
  EXPECT_EQ(s.limit, 3);
}

TEST(TomlSchema, OptionalTableMayBeAbsent) {
  Server s;
  s.has_limits = true;
  apply_schema(toml::parse("[server]\nhost = \"h\"\n"), server_schema(s), "s.toml");
  EXPECT_FALSE(s.has_limits);
  EXPECT_EQ(s.limit, 0);
}

TEST(TomlSchema, ProblemsAreReportedGenerically) {
  EXPECT_EQ(problem_of("[server]\nhost = \"h\"\nurl = \"ftp://x\"\n"),
            "s.toml:3:7: server.url: expected a URL starting with http:// or https://, got \"ftp://x\"");
  EXPECT_EQ(problem_of("[server]\nhost = \"h\"\nport = 40000\n"), "s.toml:3:8: server.port: expected 1..32767, got 40000");
  EXPECT_EQ(problem_of("[server]\nhost = \"h\"\nratio = true\n"),
            "s.toml:3:9: server.ratio: expected a number, got boolean true");
  EXPECT_EQ(problem_of("[server]\nhost = [1, 2]\n"), "s.toml:2:8: server.host: expected a string, got array");
  EXPECT_EQ(problem_of("[server]\nhost = \"a\\tb\\\"c\"\nurl = \"a\\tb\\\"c\"\n"),
            "s.toml:3:7: server.url: expected a URL starting with http:// or https://, got \"a\\u0009b\\\"c\"");
  EXPECT_EQ(problem_of("[server]\nhost = \"h\"\n[limits]\nlimit = 11\n"), "s.toml:4:9: limits.limit: expected 0..10, got 11");
  EXPECT_EQ(problem_of("[limits]\n"), "s.toml:1:1: server: missing required table [server]");
}

TEST(TomlSchema, RulesThatCannotHoldTheirRangeAreProgrammingErrors) {
  int8_t small = 0;
  EXPECT_THROW(KeyRule::integer("x", &small, 0, 1000), std::logic_error);
  EXPECT_THROW(KeyRule::integer("x", &small, 5, 1), std::logic_error);
  double d = 0;
  EXPECT_THROW(KeyRule::number("x", &d, 0, 1).one_of({"a"}), std::logic_error);
}

}  // namespace
}  // namespace pice::config
