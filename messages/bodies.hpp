#pragma once
// The typed bodies carried inside an Envelope (messages/envelope.hpp).
//
// Plain data only: no behaviour beyond equality, so every folder can include this cheaply.
// On the wire each body is a msgpack map keyed by the field names below (see body_fields.hpp);
// decoders ignore keys they do not know and leave missing fields at these defaults, so a field
// can be added without a schema version bump as long as its default means "not given".
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace pice::messages {

// Where the time of one expansion went, as measured by the node that did it.
struct Timings {
  double queue_ms = 0;
  double prefill_ms = 0;
  double decode_ms = 0;
  int64_t started_us = 0;   // wall clock (now_us()) on that node when the work began; 0 = not known
  bool operator==(const Timings&) const = default;
};

// A question entering the system (gateway -> scheduler). 0 / -1 mean "use the node default".
struct Request {
  std::string question;
  std::string mode;                    // "pice" | "sot" | "route" | "cloud-only"; "" = the node default
  int32_t max_points = 0;
  int32_t max_words_per_point = 0;
  int32_t max_tokens_per_point = 0;
  double temperature = -1;
  double top_p = -1;
  uint64_t seed = 0;
  std::vector<std::string> stop;       // generation of expansions and direct answers ends before any of these
  bool ignore_eos = false;             // expansions and direct answers run to their token limit
  // Withdraws the earlier request of the same id from the same client (it disconnected): the node stops
  // that request's work and sends nothing more for it. Every other field is ignored.
  bool cancel = false;
  int32_t ensemble = 0;                // copies of each point for the ensemble ([ensemble] k); 0 = node default
  bool operator==(const Request&) const = default;
};

// One point of a sketch, streamed as soon as the cloud model has finished writing it.
struct SketchPoint {
  int32_t index = 0;
  std::string text;
  bool last = false;                   // no more points follow for this request
  bool operator==(const SketchPoint&) const = default;
};

// Expand one point of a sketch (scheduler -> expander).
struct ExpansionTask {
  std::string question;
  std::vector<std::string> sketch;     // every point, so the expander sees the whole plan
  int32_t point_index = 0;
  std::string point;
  int32_t max_tokens = 0;
  double temperature = 0;
  double top_p = 1;
  uint64_t seed = 0;
  int64_t deadline_us = 0;             // wall clock (now_us()); 0 = none
  std::vector<std::string> stop;       // the client's stop strings (the expander adds its own)
  bool ignore_eos = false;
  bool direct = false;                 // answer the question itself (no sketch): mode "route" on an edge
  // Compact form (CE-LSLM): the sender's vocabulary hash (kernels::vocab_hash; 0 = not known) and,
  // when the receiver's vocabulary has the same hash, the whole expansion prompt as token ids instead
  // of question, sketch and point (which are then left empty).
  uint64_t vocab_hash = 0;
  std::vector<int32_t> prompt_ids;
  bool operator==(const ExpansionTask&) const = default;
};

// The expansion of one point (expander -> ensemble/assembly). error non-empty: it failed.
struct ExpansionResult {
  int32_t point_index = 0;
  std::string text;
  int32_t tokens = 0;
  double mean_logprob = 0;
  std::string model;
  std::string node;
  Timings timings;
  std::string error;
  int32_t prompt_tokens = 0;
  // Compact form: the text as token ids of the vocabulary with this hash (text then empty); sent only
  // when the task said the receiver shares that vocabulary and the ids decode to exactly the text.
  uint64_t vocab_hash = 0;
  std::vector<int32_t> text_ids;
  bool operator==(const ExpansionResult&) const = default;
};

// text: a piece of a direct answer (no sketch), streamed as the model writes it.
enum class ChunkKind : uint8_t { sketch_point = 0, expansion = 1, done = 2, error = 3, text = 4 };

// One candidate expansion of a point as the ensemble judged it (actors/ensemble_scoring.hpp): each
// part in [0, 1], score their weighted mean. Reported for every candidate, chosen or not.
struct EnsembleCandidate {
  std::string node;
  std::string model;
  int32_t tokens = 0;
  double fluency = 0;     // exp(mean token log-probability): 1 / perplexity
  double relevance = 0;   // similarity to the point and the question
  double agreement = 0;   // mean similarity to the other candidates (0 when alone)
  double score = 0;
  bool chosen = false;
  bool operator==(const EnsembleCandidate&) const = default;
};

// A piece of the answer streamed back to the gateway, in answer order.
struct AnswerChunk {
  ChunkKind kind = ChunkKind::expansion;
  int32_t point_index = -1;
  std::string text;
  std::string node;
  std::string model;
  double score = 0;
  int32_t total_points = 0;
  double elapsed_ms = 0;
  std::string mode;
  // How the scheduler serves the request (set on every chunk): path "sketch" (sketch on the cloud,
  // expansions on edges), "sketch-cloud" (both on the cloud), "direct" (the cloud answers) or
  // "direct-edge" (an edge answers); why, in words (router decision, load); the sketch budget used.
  std::string path;
  std::string reason;
  int32_t budget_points = 0;
  int32_t budget_words = 0;
  // expansion/text: tokens of that piece of work; done: totals of the whole answer (usage).
  int32_t tokens = 0;
  int32_t prompt_tokens = 0;
  Timings timings;                     // expansion: where its time went on the node that wrote it
  // Expansion chunks: every candidate the ensemble judged for this point, and how many copies of the
  // point were dispatched (fewer candidates than copies: some failed or came past the ensemble's wait).
  std::vector<EnsembleCandidate> candidates;
  int32_t copies = 0;
  // done: the bytes this request's expansion tasks and their results took on the wire between the cloud
  // and the boards, as encoded (compact messages make them smaller); 0 when no board took part.
  int64_t task_bytes = 0;
  int64_t result_bytes = 0;
  bool operator==(const AnswerChunk&) const = default;
};

// Periodic "I am here and this is my capacity" from every node (pub/sub).
struct Heartbeat {
  std::string node_id;
  std::string role;
  std::vector<std::string> models;
  int32_t batch_slots = 0;
  int32_t queue_depth = 0;
  double tokens_per_s = 0;
  int64_t free_kv_tokens = 0;
  std::string version;
  bool draining = false;                // finishing its queue and taking no more tasks: place nothing here
  uint64_t vocab_hash = 0;             // of the board's model's vocabulary: tasks to it may carry token ids
  bool operator==(const Heartbeat&) const = default;
};

// A distribution of values (latencies in milliseconds), cumulative since the node started, so a
// lost Telemetry message loses nothing: the next one carries every observation. counts[i] holds the
// values in (bounds[i-1], bounds[i]]; counts.back() those above every bound. decode() rejects a
// histogram whose counts do not number bounds + 1 or whose bounds do not ascend.
struct Histogram {
  std::vector<double> bounds;
  std::vector<uint64_t> counts;
  double sum = 0;
  uint64_t count = 0;
  bool operator==(const Histogram&) const = default;
};

// A node's counters, gauges and histograms, for `pice top` and /metrics.
struct Telemetry {
  std::string node_id;
  std::map<std::string, uint64_t> counters;   // monotonic totals
  std::map<std::string, double> gauges;       // current values
  std::string role;                           // "cloud", "edge", "broker": added in schema 1 (absent = "")
  std::map<std::string, Histogram> histograms;  // latencies (ms) by name; absent = none
  bool operator==(const Telemetry&) const = default;
};

// One timed step of one request (the envelope's request id and task id say which), published on the
// events socket when the step ends, so a monitor can lay a request's life out on a time line.
// Names: "request" (cloud: accepted -> answer complete), "point" (cloud: point dispatched -> expansion
// chosen), "expand" (edge: task received -> result sent).
struct Span {
  std::string name;
  std::string node;                               // where the step ran
  int64_t start_us = 0;                           // wall clock (now_us())
  int64_t end_us = 0;
  std::map<std::string, std::string> attributes;  // e.g. board, attempts, point, error
  bool operator==(const Span&) const = default;
};

// An operator's command to one node (Envelope::to names it), forwarded by the cloud or the broker it
// is attached to. Commands: "drain" (finish the queued tasks, take no more, then exit). A node answers
// an unknown command by logging it; the sender sees the effect in the node's heartbeats.
struct Control {
  std::string command;
  bool operator==(const Control&) const = default;
};

}  // namespace pice::messages
