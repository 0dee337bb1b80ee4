#pragma once
// Internal to messages/: the wire name of every body field, in one place.
//
// describe(body, visit) calls visit("name", field) for each field; the same list drives encoding
// (write_struct) and decoding (read_struct), so the two can never disagree. Names are on the wire:
// renaming one breaks compatibility; adding one does not (decoders ignore unknown keys).
#include <concepts>
#include <string_view>
#include <type_traits>

#include "messages/wire.hpp"

namespace pice::messages::detail {

// S is T or const T: one describe() serves both the encoder and the decoder.
template <class S, class T>
concept Of = std::same_as<std::remove_const_t<S>, T>;

template <Of<Timings> S, class V>
void describe(S& t, V&& visit) {
  visit("queue_ms", t.queue_ms);
  visit("prefill_ms", t.prefill_ms);
  visit("decode_ms", t.decode_ms);
  visit("started_us", t.started_us);
}

template <Of<Request> S, class V>
void describe(S& r, V&& visit) {
  visit("question", r.question);
  visit("mode", r.mode);
  visit("max_points", r.max_points);
  visit("max_words_per_point", r.max_words_per_point);
  visit("max_tokens_per_point", r.max_tokens_per_point);
  visit("temperature", r.temperature);
  visit("top_p", r.top_p);
  visit("seed", r.seed);
  visit("stop", r.stop);
  visit("ignore_eos", r.ignore_eos);
  visit("cancel", r.cancel);
  visit("ensemble", r.ensemble);
}

template <Of<SketchPoint> S, class V>
void describe(S& p, V&& visit) {
  visit("index", p.index);
  visit("text", p.text);
  visit("last", p.last);
}

template <Of<ExpansionTask> S, class V>
void describe(S& t, V&& visit) {
  visit("question", t.question);
  visit("sketch", t.sketch);
  visit("point_index", t.point_index);
  visit("point", t.point);
  visit("max_tokens", t.max_tokens);
  visit("temperature", t.temperature);
  visit("top_p", t.top_p);
  visit("seed", t.seed);
  visit("deadline_us", t.deadline_us);
  visit("stop", t.stop);
  visit("ignore_eos", t.ignore_eos);
  visit("direct", t.direct);
  visit("vocab_hash", t.vocab_hash);
  visit("prompt_ids", t.prompt_ids);
}

template <Of<ExpansionResult> S, class V>
void describe(S& r, V&& visit) {
  visit("point_index", r.point_index);
  visit("text", r.text);
  visit("tokens", r.tokens);
  visit("mean_logprob", r.mean_logprob);
  visit("model", r.model);
  visit("node", r.node);
  visit("timings", r.timings);
  visit("error", r.error);
  visit("prompt_tokens", r.prompt_tokens);
  visit("vocab_hash", r.vocab_hash);
  visit("text_ids", r.text_ids);
}

template <Of<EnsembleCandidate> S, class V>
void describe(S& c, V&& visit) {
  visit("node", c.node);
  visit("model", c.model);
  visit("tokens", c.tokens);
  visit("fluency", c.fluency);
  visit("relevance", c.relevance);
  visit("agreement", c.agreement);
  visit("score", c.score);
  visit("chosen", c.chosen);
}

template <Of<AnswerChunk> S, class V>
void describe(S& c, V&& visit) {
  visit("kind", c.kind);
  visit("point_index", c.point_index);
  visit("text", c.text);
  visit("node", c.node);
  visit("model", c.model);
  visit("score", c.score);
  visit("total_points", c.total_points);
  visit("elapsed_ms", c.elapsed_ms);
  visit("mode", c.mode);
  visit("path", c.path);
  visit("reason", c.reason);
  visit("budget_points", c.budget_points);
  visit("budget_words", c.budget_words);
  visit("tokens", c.tokens);
  visit("prompt_tokens", c.prompt_tokens);
  visit("timings", c.timings);
  visit("candidates", c.candidates);
  visit("copies", c.copies);
  visit("task_bytes", c.task_bytes);
  visit("result_bytes", c.result_bytes);
}

template <Of<Heartbeat> S, class V>
void describe(S& h, V&& visit) {
  visit("node_id", h.node_id);
  visit("role", h.role);
  visit("models", h.models);
  visit("batch_slots", h.batch_slots);
  visit("queue_depth", h.queue_depth);
  visit("tokens_per_s", h.tokens_per_s);
  visit("free_kv_tokens", h.free_kv_tokens);
  visit("version", h.version);
  visit("draining", h.draining);
  visit("vocab_hash", h.vocab_hash);
}

template <Of<Histogram> S, class V>
void describe(S& h, V&& visit) {
  visit("bounds", h.bounds);
  visit("counts", h.counts);
  visit("sum", h.sum);
  visit("count", h.count);
}

template <Of<Control> S, class V>
void describe(S& c, V&& visit) {
  visit("command", c.command);
}

template <Of<Span> S, class V>
void describe(S& s, V&& visit) {
  visit("name", s.name);
  visit("node", s.node);
  visit("start_us", s.start_us);
  visit("end_us", s.end_us);
  visit("attributes", s.attributes);
}

template <Of<Telemetry> S, class V>
void describe(S& t, V&& visit) {
  visit("node_id", t.node_id);
  visit("counters", t.counters);
  visit("gauges", t.gauges);
  visit("role", t.role);
  visit("histograms", t.histograms);
}

// Nested structs (Timings) are fields too; declared before the templates that call them.
inline void write(Packer& packer, const Timings& value);
inline void read(const msgpack::object& object, Timings& out);

// A struct as a map of its described fields.
template <class T>
void write_struct(Packer& packer, const T& value) {
  uint32_t count = 0;
  describe(value, [&](std::string_view, const auto&) { ++count; });
  packer.pack_map(count);
  describe(value, [&](std::string_view name, const auto& field) {
    write_key(packer, name);
    write(packer, field);
  });
}

// Fills the fields whose names appear in the map; unknown keys are skipped, missing ones keep
// their defaults. Throws FieldError naming the field when a value has the wrong type.
template <class T>
void read_struct(const msgpack::object& object, T& out) {
  if (object.type != msgpack::type::MAP) throw FieldError{{}, "expected a map, got " + describe_object(object)};
  const auto& map = object.via.map;
  for (uint32_t i = 0; i < map.size; ++i) {
    const msgpack::object& key = map.ptr[i].key;
    if (key.type != msgpack::type::STR) {
      throw FieldError{{}, "key " + std::to_string(i) + ": expected a string, got " + describe_object(key)};
    }
    const std::string_view name(key.via.str.ptr, key.via.str.size);
    describe(out, [&](std::string_view field_name, auto& field) {
      if (field_name != name) return;
      try {
        read(map.ptr[i].val, field);
      } catch (FieldError& error) {
        prepend_path(error, std::string(field_name));
        throw;
      }
    });
  }
}

inline void write(Packer& packer, const Timings& value) { write_struct(packer, value); }
inline void read(const msgpack::object& object, Timings& out) { read_struct(object, out); }
inline void write(Packer& packer, const Histogram& value) { write_struct(packer, value); }
// Strict: a histogram whose shape is inconsistent would render as nonsense in every monitor.
inline void read(const msgpack::object& object, Histogram& out) {
  read_struct(object, out);
  if (out.counts.size() != out.bounds.size() + 1)
    throw FieldError{{}, "histogram has " + std::to_string(out.counts.size()) + " counts for " +
                             std::to_string(out.bounds.size()) + " bounds (expected bounds + 1)"};
  for (size_t i = 1; i < out.bounds.size(); ++i)
    if (!(out.bounds[i - 1] < out.bounds[i]))
      throw FieldError{{}, "histogram bounds do not ascend at index " + std::to_string(i)};
}

inline void write(Packer& packer, const EnsembleCandidate& value) { write_struct(packer, value); }
inline void read(const msgpack::object& object, EnsembleCandidate& out) { read_struct(object, out); }

}  // namespace pice::messages::detail
