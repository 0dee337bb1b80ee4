// Each kind of mistake in a configuration file gets its own message, at the right line and column.
// The table below is the specification: the exact what() text for every mistake.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "config/node_config.hpp"
#include "config/toml_text_check.hpp"

namespace pice::config {
namespace {

// A valid cloud file of five lines ending inside [llm]; cases append their mistake from line 6.
const std::string kCloud = "[node]\nrole = \"cloud\"\nlisten = \"tcp://127.0.0.1:7700\"\n[llm]\nmodel = \"synth:demo\"\n";
const std::string kKnownTables =
    "(known tables: node, llm, slm, sketch, expand, sampling, fleet, ensemble, log, http, security, scheduler)";

struct Mistake {
  std::string name;
  std::string text;
  uint32_t line;
  uint32_t column;
  std::string key;
  std::string message;   // what() after "test.toml:LINE:COLUMN: "
};

const std::vector<Mistake> kMistakes = {
    // ---- types, ranges, allowed values: the schema ----
    {"integer given a string", kCloud + "[sketch]\nmax_points = \"five\"\n", 7, 14, "sketch.max_points",
     "sketch.max_points: expected an integer, got string \"five\""},
    {"integer given a float", kCloud + "threads = 1.5\n", 6, 11, "llm.threads",
     "llm.threads: expected an integer, got float 1.5"},
    {"integer given a date", kCloud + "[sketch]\nmax_points = 1979-05-27\n", 7, 14, "sketch.max_points",
     "sketch.max_points: expected an integer, got date 1979-05-27"},
    {"integer below range", kCloud + "[sketch]\nmin_points = 0\n", 7, 14, "sketch.min_points",
     "sketch.min_points: expected 1..64, got 0"},
    {"integer above range", kCloud + "[expand]\nmax_tokens = 100000\n", 7, 14, "expand.max_tokens",
     "expand.max_tokens: expected 1..8192, got 100000"},
    {"negative seed", kCloud + "[sampling]\nseed = -1\n", 7, 8, "sampling.seed",
     "sampling.seed: expected 0..9223372036854775807, got -1"},
    {"number given a string", kCloud + "[sampling]\ntemperature = \"hot\"\n", 7, 15, "sampling.temperature",
     "sampling.temperature: expected a number, got string \"hot\""},
    {"number out of range", kCloud + "[sampling]\ntop_p = 1.5\n", 7, 9, "sampling.top_p",
     "sampling.top_p: expected 0..1, got 1.5"},
    {"string given an integer", "[node]\nrole = 1\n", 2, 8, "node.role", "node.role: expected a string, got integer 1"},
    {"role not one of the roles", "[node]\nrole = \"clod\"\n", 2, 8, "node.role",
     "node.role: expected one of \"all-in-one\", \"cloud\", \"edge\", \"broker\", got \"clod\""},
    {"log level not one of the levels", kCloud + "[log]\nlevel = \"verbose\"\n", 7, 9, "log.level",
     "log.level: expected one of \"trace\", \"debug\", \"info\", \"warn\", \"error\", got \"verbose\""},
    {"empty string", "[node]\nid = \"\"\nrole = \"cloud\"\nlisten = \"tcp://a:1\"\n[llm]\nmodel = \"synth:demo\"\n", 2, 6,
     "node.id", "node.id: expected a non-empty string"},
    {"endpoint with another scheme", "[node]\nrole = \"cloud\"\nlisten = \"http://x:1\"\n[llm]\nmodel = \"synth:demo\"\n", 3,
     10, "node.listen", "node.listen: expected an endpoint starting with tcp://, ipc:// or inproc://, got \"http://x:1\""},
    {"model load mode not one of the modes", kCloud + "load = \"mlock\"\n", 6, 8, "llm.load",
     "llm.load: expected one of \"read\", \"mmap\", \"mmap-lock-required\", got \"mlock\""},
    {"negative kv window", kCloud + "kv_window = -4\n", 6, 13, "llm.kv_window", "llm.kv_window: expected 0..1048576, got -4"},
    {"remote engine URL with another scheme", kCloud + "url = \"https://gpu:8080/v1\"\n", 6, 7, "llm.url",
     "llm.url: expected a URL starting with http://, got \"https://gpu:8080/v1\""},
    {"API key variable without a remote engine", kCloud + "api_key_env = \"KEY\"\n", 6, 15, "llm.api_key_env",
     "llm.api_key_env: only used with llm.url (a remote engine's API key)"},
    // ---- unknown and missing names ----
    {"unknown key", kCloud + "[sketch]\nmax_pints = 5\n", 7, 1, "sketch.max_pints",
     "unknown key 'sketch.max_pints' (known: min_points, max_points, max_words_per_point)"},
    {"unknown table", kCloud + "[sketchh]\nmin_points = 1\n", 6, 2, "sketchh", "unknown table 'sketchh' " + kKnownTables},
    {"unknown top-level key", "foo = 1\n" + kCloud, 1, 1, "foo", "unknown key 'foo' " + kKnownTables},
    {"sub-table inside a table", kCloud + "[sketch.extra]\nx = 1\n", 6, 9, "sketch.extra",
     "unknown key 'sketch.extra' (known: min_points, max_points, max_words_per_point)"},
    {"table given a value", "log = \"debug\"\n" + kCloud, 1, 7, "log", "log: expected a table, got string \"debug\""},
    {"array of tables", "[node]\nrole = \"cloud\"\nlisten = \"tcp://a:1\"\n[[llm]]\nmodel = \"synth:demo\"\n", 4, 1, "llm",
     "llm: expected a table, got array"},
    {"missing required key", "# a node without a role\n\n[node]\nlisten = \"tcp://127.0.0.1:7700\"\n", 3, 1, "node.role",
     "node.role: missing required key"},
    {"missing model", "[node]\nrole = \"cloud\"\nlisten = \"tcp://a:1\"\n[llm]\nthreads = 2\n", 4, 1, "llm.model",
     "llm.model: missing required key"},
    {"missing [node]", "[llm]\nmodel = \"synth:demo\"\n", 1, 1, "node", "node: missing required table [node]"},
    {"empty file", "", 1, 1, "node", "node: missing required table [node]"},
    // ---- what each role needs ----
    {"cloud without [llm]", "[node]\nrole = \"cloud\"\nlisten = \"tcp://127.0.0.1:7700\"\n", 2, 8, "llm",
     "llm: role \"cloud\" needs an [llm] table (the cloud model)"},
    {"cloud without listen", "[node]\nrole = \"cloud\"\n[llm]\nmodel = \"synth:demo\"\n", 1, 1, "node.listen",
     "node.listen: role \"cloud\" needs node.listen (the endpoint edges connect to) or node.connect (a broker's endpoint)"},
    {"broker without listen", "[node]\nrole = \"broker\"\n", 1, 1, "node.listen",
     "node.listen: role \"broker\" needs node.listen (the endpoint clouds and edges connect to)"},
    {"broker with [llm]", "[node]\nrole = \"broker\"\nlisten = \"tcp://a:1\"\n[llm]\nmodel = \"synth:demo\"\n", 4, 1,
     "llm", "llm: not used by role \"broker\" (a broker runs no model)"},
    {"broker with connect", "[node]\nrole = \"broker\"\nlisten = \"tcp://a:1\"\nconnect = \"tcp://b:1\"\n", 4, 11,
     "node.connect", "node.connect: not used by role \"broker\" (only edges and clouds connect)"},
    {"edge without [slm]", "[node]\nrole = \"edge\"\nconnect = \"tcp://127.0.0.1:7700\"\n", 2, 8, "slm",
     "slm: role \"edge\" needs an [slm] table (the edge model)"},
    {"edge without connect", "[node]\nrole = \"edge\"\n[slm]\nmodel = \"synth:demo\"\n", 1, 1, "node.connect",
     "node.connect: role \"edge\" needs node.connect (the cloud's endpoint)"},
    {"all-in-one without [llm]", "[node]\nrole = \"all-in-one\"\n[slm]\nmodel = \"synth:demo\"\n", 2, 8, "llm",
     "llm: role \"all-in-one\" needs an [llm] table (the cloud model)"},
    {"all-in-one without [slm]", "[node]\nrole = \"all-in-one\"\n[llm]\nmodel = \"synth:demo\"\n", 2, 8, "slm",
     "slm: role \"all-in-one\" needs an [slm] table (the edge model)"},
    {"edge with listen",
     "[node]\nrole = \"edge\"\nconnect = \"tcp://a:1\"\nlisten = \"tcp://b:1\"\n[slm]\nmodel = \"synth:demo\"\n", 4, 10,
     "node.listen", "node.listen: not used by role \"edge\" (an edge connects, with node.connect)"},
    {"all-in-one with connect",
     "[node]\nrole = \"all-in-one\"\nconnect = \"tcp://b:1\"\n[llm]\nmodel = \"synth:demo\"\n[slm]\nmodel = \"synth:demo\"\n",
     3, 11, "node.connect", "node.connect: not used by role \"all-in-one\" (only edges and clouds connect)"},
    {"cloud with local_edges",
     "[node]\nrole = \"cloud\"\nlisten = \"tcp://a:1\"\nlocal_edges = 2\n[llm]\nmodel = \"synth:demo\"\n", 4, 15,
     "node.local_edges", "node.local_edges: not used by role \"cloud\" (only all-in-one runs local edges)"},
    {"edge with [llm]",
     "[node]\nrole = \"edge\"\nconnect = \"tcp://a:1\"\n[slm]\nmodel = \"synth:demo\"\n[llm]\nmodel = \"synth:demo\"\n", 6, 1,
     "llm", "llm: not used by role \"edge\" (an edge runs only its [slm])"},
    {"cloud with [slm]", kCloud + "[slm]\nmodel = \"synth:demo\"\n", 6, 1, "slm",
     "slm: not used by role \"cloud\" (the cloud runs only its [llm])"},
    // ---- rules between keys ----
    {"min_points above max_points", kCloud + "[sketch]\nmin_points = 6\nmax_points = 4\n", 7, 14, "sketch.min_points",
     "sketch.min_points: must not exceed sketch.max_points (4), got 6"},
    {"max_points below the default min_points", kCloud + "[sketch]\nmax_points = 1\n", 7, 14, "sketch.max_points",
     "sketch.max_points: must be at least sketch.min_points (2), got 1"},
    {"board timeout not above heartbeat", kCloud + "[fleet]\nheartbeat_ms = 1000\nboard_timeout_ms = 1000\n", 8, 20,
     "fleet.board_timeout_ms", "fleet.board_timeout_ms: must be greater than fleet.heartbeat_ms (1000), got 1000"},
    {"heartbeat not below the default board timeout", kCloud + "[fleet]\nheartbeat_ms = 5000\n", 7, 16,
     "fleet.heartbeat_ms", "fleet.heartbeat_ms: must be less than fleet.board_timeout_ms (3000), got 5000"},
    {"ensemble k above range", kCloud + "[ensemble]\nk = 17\n", 7, 5, "ensemble.k", "ensemble.k: expected 1..16, got 17"},
    {"ensemble weight negative", kCloud + "[ensemble]\nagreement_weight = -0.5\n", 7, 20, "ensemble.agreement_weight",
     "ensemble.agreement_weight: expected 0..1000, got -0.5"},
    {"ensemble weights all zero",
     kCloud + "[ensemble]\nk = 3\nfluency_weight = 0\nrelevance_weight = 0\nagreement_weight = 0\n", 6, 1, "ensemble",
     "ensemble: fluency_weight, relevance_weight and agreement_weight are all 0: at least one must be positive to rank "
     "candidates"},
    {"edge with [ensemble]",
     "[node]\nrole = \"edge\"\nconnect = \"tcp://a:1\"\n[slm]\nmodel = \"synth:demo\"\n[ensemble]\nk = 2\n", 6, 1,
     "ensemble", "ensemble: not used by role \"edge\" (the cloud's ensemble picks among candidates)"},
    {"kv_keep without a window", kCloud + "kv_keep = 32\n", 6, 11, "llm.kv_keep",
     "llm.kv_keep: 32 needs llm.kv_window above 0 (the bounded cache's recent window)"},
    // ---- several mistakes: the first in the file is reported, not the first in the schema ----
    {"earliest mistake first", kCloud + "[expand]\nmax_tokens = 0\n[sketch]\nmin_points = 0\n", 7, 14,
     "expand.max_tokens", "expand.max_tokens: expected 1..8192, got 0"},
};

TEST(ConfigErrors, EachMistakeHasItsMessageLineAndColumn) {
  for (const Mistake& mistake : kMistakes) {
    SCOPED_TRACE(mistake.name);
    try {
      parse(mistake.text, "test.toml");
      ADD_FAILURE() << "accepted";
    } catch (const ConfigError& error) {
      EXPECT_EQ(std::string(error.what()), "test.toml:" + std::to_string(mistake.line) + ":" +
                                               std::to_string(mistake.column) + ": " + mistake.message);
      EXPECT_EQ(error.file(), "test.toml");
      EXPECT_EQ(error.line(), mistake.line);
      EXPECT_EQ(error.column(), mistake.column);
      EXPECT_EQ(error.key(), mistake.key);
    }
  }
}

// toml++'s own message follows the position; it is not ours to pin down word for word.
struct SyntaxMistake {
  std::string name;
  std::string text;
  uint32_t line;
};

TEST(ConfigErrors, TomlSyntaxErrorsCarryTomlPosition) {
  const std::vector<SyntaxMistake> mistakes = {
      {"unterminated string", "[node]\nrole = \"cloud\n", 2},
      {"duplicate key", "[node]\nrole = \"cloud\"\nrole = \"edge\"\n", 3},
      {"missing value", "[node]\nrole =\n", 2},
      {"duplicate table", "[node]\nrole = \"cloud\"\n[llm]\nmodel = \"a\"\n[llm]\n", 5},
      {"invalid UTF-8", "[node]\nrole = \"\xff\"\n", 2},
  };
  for (const auto& mistake : mistakes) {
    SCOPED_TRACE(mistake.name);
    try {
      parse(mistake.text, "test.toml");
      ADD_FAILURE() << "accepted";
    } catch (const ConfigError& error) {
      const std::string prefix = "test.toml:" + std::to_string(mistake.line) + ":" + std::to_string(error.column()) + ": ";
      const std::string what = error.what();
      EXPECT_EQ(what.substr(0, prefix.size()), prefix) << what;
      EXPECT_GT(what.size(), prefix.size() + 5) << what;   // a description follows
      EXPECT_EQ(error.line(), mistake.line) << what;
      EXPECT_GE(error.column(), 1u);
      EXPECT_EQ(error.key(), "");
    }
  }
}

// Found while fuzzing (tests/fuzz/config_fuzz.cpp): toml++ 3.3 reaches __builtin_unreachable in its
// Unicode whitespace test for some non-ASCII characters (upstream #190, #295). Such text is invalid TOML;
// the loader now refuses it before toml++ sees it, at the character's line and column.
TEST(ConfigErrors, NonAsciiWhereTomlExpectsWhitespaceIsRefusedBeforeParsing) {
  struct Case {
    std::string text;
    uint32_t line, column;
    std::string message;
  };
  const std::vector<Case> cases = {
      // The fuzzer's input: U+00BA as a bare key in an inline table.
      {"node = { role = \"al>>>>>>>>>>>>>>>\xc2\xba>>>l-in-2one\", model = \"sy\", \xc2\xba>>>l-in-2oneslm:reads- = 1 }\n",
       1, 65, "non-ASCII character U+00BA outside a string or comment"},
      // The fuzzer's second input: a quote after a number starts no string; toml++ tests U+FEDC for whitespace.
      {"node = { role = 1\"all-expain-one\xef\xbb\x9c\", local_edges = 2 }el = \"hntyn:tin= 1 }\n", 1, 33,
       "non-ASCII character U+FEDC outside a string or comment"},
      // Upstream #190: U+00A7 first on the line after a line-ending backslash in a multi-line string.
      {"[node]\nid = \"\"\"\\\n\xc2\xa7\"\"\"\n", 3, 1, "non-ASCII character U+00A7 first on the line after a line-ending backslash"},
      // CI's fuzzer: a non-ASCII character right after a backslash in a multi-line string, or after the
      // spaces that follow one, meets toml++'s whitespace test too.
      {"[node]\nid = \"\"\"\\\xc3\xa9\"\"\"\n", 2, 10, "non-ASCII character U+00E9 after a backslash in a multi-line string"},
      {"[node]\nid = \"\"\"\\  \xc3\xa9\"\"\"\n", 2, 12, "non-ASCII character U+00E9 after a backslash in a multi-line string"},
      // CI's fuzzer again: a second '=' ends no key, so the quote after it opens no string for toml++.
      {"nbo=0=\"\xef\xb8\xbfi", 1, 8, "non-ASCII character U+FE3F outside a string or comment"},
      {"[node]\nid = [\"a\"] \"\xc3\xa9\"\n", 2, 13, "non-ASCII character U+00E9 outside a string or comment"},
      {"[node]\nrole = \"cloud\" \xe2\x80\x80\n", 2, 16, "non-ASCII character U+2000 outside a string or comment"},
      {"[log]\nlevel = \"info\"\xff\n", 2, 15, "non-ASCII character byte 0xFF outside"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    try {
      parse(c.text, "test.toml");
      ADD_FAILURE() << "accepted";
    } catch (const ConfigError& error) {
      EXPECT_EQ(error.line(), c.line) << error.what();
      EXPECT_EQ(error.column(), c.column) << error.what();
      EXPECT_NE(std::string(error.what()).find(c.message), std::string::npos) << error.what();
    }
  }
  // Inside strings and comments non-ASCII text stays welcome, and so does a byte order mark.
  const NodeConfig ok = parse("\xef\xbb\xbf# caf\xc3\xa9 \xc2\xba\n[node]\nid = \"b\xc3\xa9-\xc2\xba\"\nrole = \"cloud\"\n"
                              "listen = 'tcp://127.0.0.1:7700' # \xc2\xa7\n[llm]\nmodel = \"\"\"\\\n  synth:demo\"\"\"\n",
                              "test.toml");
  EXPECT_EQ(ok.node_id, "b\xc3\xa9-\xc2\xba");
  EXPECT_EQ(ok.llm->path, "synth:demo");
  // Strings in every place TOML puts one: quoted keys, dotted and in headers, arrays over lines with
  // comments, inline tables, arrays of tables.
  EXPECT_NO_THROW(check_toml_text("[\"t\xc3\xa9\".'k\xc3\xa9']\na.\"b\xc3\xa9\" = [ # \xc2\xa7\n  \"x\xc3\xa9\",\n  'y\xc3\xa9',\n]\n"
                                  "t = { \"k\xc3\xa9\" = \"v\xc3\xa9\", n = [\"\xc3\xa9\"] }\n[[\"a\xc3\xa9\"]]\nz = \"\xc3\xa9\"\n",
                                  "test.toml"));
  // An escape's own letter, a quote too, may be followed by any character.
  const NodeConfig escaped = parse("[node]\nid = \"\"\"q\\\"\xc3\xa9\\t\xc2\xba\"\"\"\nrole = \"cloud\"\n"
                                   "listen = 'tcp://127.0.0.1:7700'\n[llm]\nmodel = \"synth:demo\"\n",
                                   "test.toml");
  EXPECT_EQ(escaped.node_id, "q\"\xc3\xa9\t\xc2\xba");
}

TEST(ConfigErrors, MissingFile) {
  try {
    load_file("/nonexistent-pice-dir/node.toml");
    ADD_FAILURE() << "loaded a missing file";
  } catch (const ConfigError& error) {
    EXPECT_EQ(std::string(error.what()), "/nonexistent-pice-dir/node.toml: cannot open: No such file or directory");
    EXPECT_EQ(error.line(), 0u);
    EXPECT_EQ(error.column(), 0u);
    EXPECT_EQ(error.file(), "/nonexistent-pice-dir/node.toml");
  }
}

TEST(ConfigErrors, DirectoryInsteadOfFile) {
  const auto dir = std::filesystem::temp_directory_path();
  try {
    load_file(dir);
    ADD_FAILURE() << "loaded a directory";
  } catch (const ConfigError& error) {
    EXPECT_EQ(std::string(error.what()), dir.string() + ": cannot open: is a directory");
  }
}

TEST(ConfigErrors, MistakesInAFileNameTheFile) {
  const auto file = std::filesystem::temp_directory_path() / ("pice-bad-" + std::to_string(getpid()) + ".toml");
  {
    std::ofstream out(file);
    out << kCloud << "[sketch]\nmax_points = \"five\"\n";
  }
  try {
    load_file(file);
    ADD_FAILURE() << "accepted";
  } catch (const ConfigError& error) {
    EXPECT_EQ(std::string(error.what()),
              file.string() + ":7:14: sketch.max_points: expected an integer, got string \"five\"");
    EXPECT_EQ(error.file(), file.string());
  }
  std::filesystem::remove(file);
}

}  // namespace
}  // namespace pice::config
