// GgufFile and GgufWriter: round trips of every metadata type and tensors, and clean rejection of
// malformed files (never a crash or an out-of-bounds read).
#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <random>

#include "kernels/fp16.hpp"
#include "kernels/gguf_file.hpp"
#include "kernels/gguf_writer.hpp"
#include "kernels_test_util.hpp"

namespace pice::kernels {
namespace {

using testing::TempDir;

template <class T>
std::span<const T> span_of(const std::vector<T>& v) {
  return {v.data(), v.size()};
}

// A file with one key of every type, arrays of every element type, and three tensors.
void write_sample(const std::filesystem::path& path, uint64_t alignment = 32) {
  GgufWriter w(alignment);
  w.set_u8("t.u8", 255);
  w.set_i8("t.i8", -128);
  w.set_u16("t.u16", 65535);
  w.set_i16("t.i16", -32768);
  w.set_u32("t.u32", 4294967295u);
  w.set_i32("t.i32", std::numeric_limits<int32_t>::min());
  w.set_u64("t.u64", 1ull << 62);
  w.set_u64("t.u64_huge", std::numeric_limits<uint64_t>::max());
  w.set_i64("t.i64", std::numeric_limits<int64_t>::min());
  w.set_f32("t.f32", 0.1f);
  w.set_f64("t.f64", -2.5e-300);
  w.set_bool("t.bool", true);
  w.set_string("t.string", std::string("h\xc3\xa9llo\0world", 12));
  w.set_string("t.empty", "");
  w.set_array<uint8_t>("a.u8", span_of(std::vector<uint8_t>{0, 1, 255}));
  w.set_array<int8_t>("a.i8", span_of(std::vector<int8_t>{-1, 127}));
  w.set_array<uint16_t>("a.u16", span_of(std::vector<uint16_t>{7, 65535}));
  w.set_array<int16_t>("a.i16", span_of(std::vector<int16_t>{-300}));
  w.set_array<uint32_t>("a.u32", span_of(std::vector<uint32_t>{1, 2, 3}));
  w.set_array<int32_t>("a.i32", span_of(std::vector<int32_t>{-5, 6}));
  w.set_array<uint64_t>("a.u64", span_of(std::vector<uint64_t>{1ull << 40}));
  w.set_array<int64_t>("a.i64", span_of(std::vector<int64_t>{-(1ll << 50), 9}));
  w.set_array<float>("a.f32", span_of(std::vector<float>{1.5f, -0.25f}));
  w.set_array<double>("a.f64", span_of(std::vector<double>{3.25}));
  w.set_array<int32_t>("a.empty", std::span<const int32_t>());
  w.set_bool_array("a.bool", {true, false, true});
  w.set_string_array("a.string", {"x", "", "\xe2\x96\x81the"});
  w.add_tensor("m.f32", {3, 2}, TensorType::f32, std::vector<float>{1, 2, 3, 4, 5, 6});
  w.add_tensor("v.f16", {5}, TensorType::f16, std::vector<float>{0.5f, -1.0f, 65504.0f, 1e-7f, 3.14159f});
  w.add_tensor("c.f32", {2, 2, 2}, TensorType::f32, [](uint64_t row, std::span<float> out) {
    for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<float>(row * 10 + i);
  });
  w.write(path);
}

std::string error_of(const std::filesystem::path& path) {
  try {
    GgufFile::open(path);
  } catch (const GgufError& e) {
    return e.what();
  }
  return "";
}

TEST(GgufFile, RoundTripsEveryMetadataType) {
  TempDir dir;
  write_sample(dir / "s.gguf");
  const GgufFile f = GgufFile::open(dir / "s.gguf");
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.get_int("t.u8"), 255);
  EXPECT_EQ(f.get_int("t.i8"), -128);
  EXPECT_EQ(f.get_int("t.u16"), 65535);
  EXPECT_EQ(f.get_int("t.i16"), -32768);
  EXPECT_EQ(f.get_int("t.u32"), 4294967295ll);
  EXPECT_EQ(f.get_int("t.i32"), std::numeric_limits<int32_t>::min());
  EXPECT_EQ(f.get_int("t.u64"), 1ll << 62);
  EXPECT_EQ(f.get_int("t.i64"), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(f.get_float("t.f32"), 0.1f);
  EXPECT_EQ(f.get_float("t.f64"), -2.5e-300);
  EXPECT_EQ(f.get_float("t.u8"), 255.0);   // integers are numbers too
  EXPECT_TRUE(f.get_bool("t.bool"));
  EXPECT_EQ(f.get_string("t.string"), std::string("h\xc3\xa9llo\0world", 12));
  EXPECT_EQ(f.get_string("t.empty"), "");
  EXPECT_EQ(f.type_of("t.i16"), GgufType::i16);

  EXPECT_EQ(f.get_int_array("a.u8"), (std::vector<int64_t>{0, 1, 255}));
  EXPECT_EQ(f.get_int_array("a.i8"), (std::vector<int64_t>{-1, 127}));
  EXPECT_EQ(f.get_int_array("a.u16"), (std::vector<int64_t>{7, 65535}));
  EXPECT_EQ(f.get_int_array("a.i16"), (std::vector<int64_t>{-300}));
  EXPECT_EQ(f.get_int_array("a.u32"), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(f.get_int_array("a.i32"), (std::vector<int64_t>{-5, 6}));
  EXPECT_EQ(f.get_int_array("a.u64"), (std::vector<int64_t>{1ll << 40}));
  EXPECT_EQ(f.get_int_array("a.i64"), (std::vector<int64_t>{-(1ll << 50), 9}));
  EXPECT_EQ(f.get_float_array("a.f32"), (std::vector<float>{1.5f, -0.25f}));
  EXPECT_EQ(f.get_float_array("a.f64"), (std::vector<float>{3.25f}));
  EXPECT_EQ(f.get_float_array("a.i32"), (std::vector<float>{-5.0f, 6.0f}));
  EXPECT_TRUE(f.get_int_array("a.empty").empty());
  EXPECT_EQ(f.array_type_of("a.bool"), GgufType::boolean);
  EXPECT_EQ(f.array_size_of("a.bool"), 3u);
  EXPECT_EQ(f.get_string_array("a.string"), (std::vector<std::string>{"x", "", "\xe2\x96\x81the"}));

  const std::vector<std::string> keys = f.keys();
  ASSERT_EQ(keys.size(), 27u);
  EXPECT_EQ(keys.front(), "t.u8");
  EXPECT_EQ(keys.back(), "a.string");
}

TEST(GgufFile, RoundTripsTensors) {
  TempDir dir;
  write_sample(dir / "s.gguf", 64);
  const GgufFile f = GgufFile::open(dir / "s.gguf");
  EXPECT_EQ(f.alignment(), 64u);
  EXPECT_EQ(f.get_int("general.alignment"), 64);
  ASSERT_EQ(f.tensors().size(), 3u);

  const TensorInfo* m = f.find_tensor("m.f32");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->dims, (std::vector<uint64_t>{3, 2}));
  EXPECT_EQ(m->type, TensorType::f32);
  EXPECT_EQ(m->elements(), 6u);
  EXPECT_EQ(m->size_bytes, 24u);
  std::vector<float> values(6);
  std::memcpy(values.data(), f.tensor_data(*m), 24);
  EXPECT_EQ(values, (std::vector<float>{1, 2, 3, 4, 5, 6}));

  const TensorInfo* h = f.find_tensor("v.f16");
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->type, TensorType::f16);
  EXPECT_EQ(h->size_bytes, 10u);
  const std::vector<float> expected{0.5f, -1.0f, 65504.0f, 1e-7f, 3.14159f};
  for (size_t i = 0; i < expected.size(); ++i) {
    uint16_t bits;
    std::memcpy(&bits, f.tensor_data(*h) + 2 * i, 2);
    EXPECT_EQ(bits, float_to_half(expected[i])) << i;
  }

  const TensorInfo* c = f.find_tensor("c.f32");
  ASSERT_NE(c, nullptr);
  std::vector<float> cube(8);
  std::memcpy(cube.data(), f.tensor_data(*c), 32);
  EXPECT_EQ(cube, (std::vector<float>{0, 1, 10, 11, 20, 21, 30, 31}));

  for (const TensorInfo& t : f.tensors()) EXPECT_EQ((f.data_offset() + t.offset) % 64, 0u) << t.name;
  EXPECT_EQ(f.find_tensor("absent"), nullptr);
}

TEST(GgufFile, ReadsVersion2) {
  TempDir dir;
  write_sample(dir / "s.gguf");
  std::string bytes = testing::read_bytes(dir / "s.gguf");
  const uint32_t v2 = 2;
  std::memcpy(bytes.data() + 4, &v2, 4);   // v2 and v3 share the layout (64-bit counts)
  testing::write_bytes(dir / "v2.gguf", bytes);
  const GgufFile f = GgufFile::open(dir / "v2.gguf");
  EXPECT_EQ(f.version(), 2u);
  EXPECT_EQ(f.get_string_array("a.string").size(), 3u);
  EXPECT_EQ(f.tensors().size(), 3u);
}

// A header with no tensors and one key holding `depth` nested arrays around a single u8.
std::string nested_array_file(int depth) {
  std::string b = "GGUF";
  auto u32 = [&](uint32_t v) { b.append(reinterpret_cast<const char*>(&v), 4); };
  auto u64 = [&](uint64_t v) { b.append(reinterpret_cast<const char*>(&v), 8); };
  u32(3);
  u64(0);
  u64(1);
  u64(1);
  b += "n";
  u32(static_cast<uint32_t>(GgufType::array));
  for (int d = 1; d < depth; ++d) {
    u32(static_cast<uint32_t>(GgufType::array));
    u64(1);
  }
  u32(static_cast<uint32_t>(GgufType::u8));
  u64(1);
  b += '\x07';
  return b;
}

TEST(GgufFile, NestedArraysAreWalkedButNotMisread) {
  TempDir dir;
  testing::write_bytes(dir / "n.gguf", nested_array_file(2));
  const GgufFile f = GgufFile::open(dir / "n.gguf");
  EXPECT_EQ(f.array_type_of("n"), GgufType::array);
  EXPECT_EQ(f.array_size_of("n"), 1u);
  EXPECT_THROW(f.get_int_array("n"), GgufError);
  EXPECT_THROW(f.get_float_array("n"), GgufError);
  testing::write_bytes(dir / "deep.gguf", nested_array_file(20));
  EXPECT_NE(error_of(dir / "deep.gguf").find("nested more than"), std::string::npos);
}

TEST(GgufFile, GettersNameTheKeyOnMismatch) {
  TempDir dir;
  write_sample(dir / "s.gguf");
  const GgufFile f = GgufFile::open(dir / "s.gguf");
  auto message = [](auto&& call) {
    try {
      call();
    } catch (const GgufError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message([&] { f.get_string("t.u32"); }).find("'t.u32' has type u32, expected string"), std::string::npos);
  EXPECT_NE(message([&] { f.get_int("t.f32"); }).find("'t.f32' has type f32, expected an integer"), std::string::npos);
  EXPECT_NE(message([&] { f.get_float("t.string"); }).find("'t.string'"), std::string::npos);
  EXPECT_NE(message([&] { f.get_bool("t.u8"); }).find("expected bool"), std::string::npos);
  EXPECT_NE(message([&] { f.get_int("t.u64_huge"); }).find("too large"), std::string::npos);
  EXPECT_NE(message([&] { f.get_int("nope"); }).find("'nope' is missing"), std::string::npos);
  EXPECT_NE(message([&] { f.get_string_array("a.u8"); }).find("array of u8"), std::string::npos);
  EXPECT_NE(message([&] { f.get_int_array("a.string"); }).find("array of string"), std::string::npos);
  EXPECT_NE(message([&] { f.get_int_array("t.u8"); }).find("expected an array"), std::string::npos);
  EXPECT_EQ(message([&] { f.get_int("t.u8"); }), "no error");

  EXPECT_EQ(f.get_int_or("nope", 42), 42);
  EXPECT_EQ(f.get_float_or("nope", 1.5), 1.5);
  EXPECT_EQ(f.get_string_or("nope", "d"), "d");
  EXPECT_TRUE(f.get_bool_or("nope", true));
  EXPECT_THROW(f.get_int_or("t.string", 1), GgufError);   // present but wrong: not silently replaced
}

TEST(GgufFile, WriterRejectsMisuse) {
  GgufWriter w;
  w.set_u32("k", 1);
  EXPECT_THROW(w.set_u32("k", 2), GgufError);
  EXPECT_THROW(w.add_tensor("q", {32}, TensorType::q5_0, std::vector<float>(32)), GgufError);   // not supported
  EXPECT_THROW(w.add_tensor("q", {48}, TensorType::q4_0, std::vector<float>(48)), GgufError);   // 48 % 32 != 0
  EXPECT_THROW(w.add_tensor("t", {3}, TensorType::f32, std::vector<float>(2)), GgufError);
  w.add_tensor("t", {1}, TensorType::f32, std::vector<float>{1});
  EXPECT_THROW(w.add_tensor("t", {1}, TensorType::f32, std::vector<float>{1}), GgufError);
  EXPECT_THROW(GgufWriter(48), GgufError);
  EXPECT_THROW(w.write("/nonexistent-dir/x.gguf"), GgufError);
}

// Overwrites bytes of a valid file and expects open() to fail with a message containing `expected`.
struct Corruption {
  std::string name;
  std::function<void(std::string&)> apply;
  std::string expected;
};

size_t find_after(const std::string& bytes, const std::string& needle) {
  const size_t at = bytes.find(needle);
  EXPECT_NE(at, std::string::npos) << needle;
  return at + needle.size();
}

template <class T>
void put(std::string& bytes, size_t at, T value) {
  std::memcpy(bytes.data() + at, &value, sizeof value);
}

TEST(GgufFile, RejectsCorruptFilesWithClearMessages) {
  TempDir dir;
  write_sample(dir / "s.gguf");
  const std::string good = testing::read_bytes(dir / "s.gguf");
  // Tensor "m.f32" record: name, then n_dims (4), dims (2 x 8), type (4), offset (8).
  const size_t m_record = find_after(good, "m.f32");
  const std::vector<Corruption> cases = {
      {"magic", [](std::string& b) { b[0] = 'X'; }, "not a GGUF file (magic is 'XGUF'"},
      {"version 1", [](std::string& b) { put<uint32_t>(b, 4, 1); }, "version 1 is not supported"},
      {"version 4", [](std::string& b) { put<uint32_t>(b, 4, 4); }, "unsupported GGUF version 4"},
      {"big endian", [](std::string& b) { put<uint32_t>(b, 4, 3u << 24); }, "big-endian"},
      {"kv count", [](std::string& b) { put<uint64_t>(b, 16, 1ull << 60); }, "metadata count"},
      {"tensor count", [](std::string& b) { put<uint64_t>(b, 8, 1ull << 60); }, "tensor count"},
      {"value type", [&](std::string& b) { put<uint32_t>(b, find_after(good, "t.u8"), 99); }, "invalid value type 99"},
      {"string length", [&](std::string& b) { put<uint64_t>(b, find_after(good, "t.string") + 4, 1ull << 62); },
       "metadata 't.string'"},
      {"array count", [&](std::string& b) { put<uint64_t>(b, find_after(good, "a.u32") + 8, 1ull << 61); },
       "metadata 'a.u32' has 2305843009213693952 elements"},
      {"duplicate key", [&](std::string& b) { b[find_after(good, "t.i32") - 3] = 'u'; }, "duplicate metadata key 't.u32'"},
      {"dimensions", [&](std::string& b) { put<uint32_t>(b, m_record, 7); }, "tensor 'm.f32' has 7 dimensions"},
      {"tensor type", [&](std::string& b) { put<uint32_t>(b, m_record + 20, 4); }, "unknown tensor type 4"},
      {"block size", [&](std::string& b) { put<uint32_t>(b, m_record + 20, 2); }, "not a multiple of its block size 32"},
      {"misaligned", [&](std::string& b) { put<uint64_t>(b, m_record + 24, 4); }, "not a multiple of the alignment"},
      {"out of bounds", [&](std::string& b) { put<uint64_t>(b, m_record + 24, 1ull << 40); },
       "tensor 'm.f32' data [1099511627776"},
      {"element overflow", [&](std::string& b) { put<uint64_t>(b, m_record + 4, 1ull << 62); put<uint64_t>(b, m_record + 12, 1ull << 62); },
       "too many elements"},
  };
  for (const Corruption& c : cases) {
    std::string bytes = good;
    c.apply(bytes);
    const std::filesystem::path path = dir / ("bad-" + std::to_string(&c - cases.data()) + ".gguf");
    testing::write_bytes(path, bytes);
    const std::string error = error_of(path);
    EXPECT_NE(error.find(path.string()), std::string::npos) << c.name << ": " << error;
    EXPECT_NE(error.find(c.expected), std::string::npos) << c.name << ": " << error;
  }
  EXPECT_NE(error_of(dir / "missing.gguf").find("cannot open"), std::string::npos);
  testing::write_bytes(dir / "empty.gguf", "");
  EXPECT_NE(error_of(dir / "empty.gguf").find("empty file"), std::string::npos);
  EXPECT_NE(error_of(dir.path()).find("not a regular file"), std::string::npos);
}

TEST(GgufFile, EveryTruncationIsRejected) {
  TempDir dir;
  write_sample(dir / "s.gguf");
  const std::string good = testing::read_bytes(dir / "s.gguf");
  const std::filesystem::path cut = dir / "cut.gguf";
  // The writer puts no padding after the last tensor, so every proper prefix lacks something.
  for (size_t size = 0; size < good.size(); ++size) {
    testing::write_bytes(cut, good.substr(0, size));
    const std::string error = error_of(cut);
    ASSERT_FALSE(error.empty()) << "a file cut to " << size << " of " << good.size() << " bytes was accepted";
    EXPECT_TRUE(error.find("truncated") != std::string::npos || error.find("empty file") != std::string::npos ||
                error.find("magic") != std::string::npos)
        << size << ": " << error;
  }
}

TEST(GgufFile, RandomCorruptionNeverCrashes) {
  TempDir dir;
  write_sample(dir / "s.gguf");
  const std::string good = testing::read_bytes(dir / "s.gguf");
  const size_t header = GgufFile::open(dir / "s.gguf").data_offset();
  std::mt19937_64 rng(12345);
  const std::filesystem::path path = dir / "fuzz.gguf";
  int rejected = 0;
  for (int trial = 0; trial < 600; ++trial) {
    std::string bytes = good;
    for (int flips = 0; flips < 1 + trial % 4; ++flips)
      bytes[rng() % header] = static_cast<char>(rng() & 0xff);
    testing::write_bytes(path, bytes);
    try {
      const GgufFile f = GgufFile::open(path);
      for (const std::string& key : f.keys()) (void)f.type_of(key);   // every accepted key is readable
      for (const TensorInfo& t : f.tensors()) ASSERT_LE(t.offset + t.size_bytes + f.data_offset(), bytes.size());
    } catch (const GgufError&) {
      ++rejected;
    }
  }
  EXPECT_GT(rejected, 0);
}

// Found while fuzzing (tests/fuzz/gguf_fuzz.cpp): a 1-D f32 tensor of 2^62 elements has 2^64 bytes,
// which wrapped to a size of 0, passed the bounds check and was accepted with no data behind it.
TEST(GgufFile, TensorWhoseSizeOverflows64BitsIsRejected) {
  std::string bytes("GGUF\x03\0\0\0", 8);
  const auto u64 = [&](uint64_t v) { bytes.append(reinterpret_cast<const char*>(&v), 8); };
  const auto u32 = [&](uint32_t v) { bytes.append(reinterpret_cast<const char*>(&v), 4); };
  u64(1);                // tensors
  u64(0);                // metadata entries
  u64(1);                // name length
  bytes += "t";
  u32(1);                // dimensions
  u64(uint64_t{1} << 62);
  u32(0);                // f32
  u64(0);                // data offset
  bytes.resize(64, '\0');   // padding to the data section, which is empty
  try {
    const GgufFile f = GgufFile::view(std::as_bytes(std::span(bytes)), "overflow");
    ADD_FAILURE() << "accepted a tensor of " << f.tensors().at(0).elements() << " elements with "
                  << f.tensors().at(0).size_bytes << " bytes";
  } catch (const GgufError& e) {
    EXPECT_NE(std::string(e.what()).find("tensor 't' of type f32 has 4611686018427387904 elements"), std::string::npos)
        << e.what();
  }
}

TEST(GgufFile, ViewOfBytesReadsLikeOpen) {
  TempDir dir;
  write_sample(dir / "s.gguf");
  const std::string bytes = testing::read_bytes(dir / "s.gguf");
  const GgufFile opened = GgufFile::open(dir / "s.gguf");
  const GgufFile viewed = GgufFile::view(std::as_bytes(std::span(bytes)), "in-memory");
  EXPECT_EQ(viewed.keys(), opened.keys());
  EXPECT_EQ(viewed.get_string("t.string"), opened.get_string("t.string"));
  EXPECT_EQ(viewed.get_int_array("a.i64"), opened.get_int_array("a.i64"));
  ASSERT_EQ(viewed.tensors().size(), opened.tensors().size());
  const TensorInfo* t = viewed.find_tensor("m.f32");
  ASSERT_NE(t, nullptr);
  // The view reads the caller's bytes in place.
  EXPECT_EQ(viewed.tensor_data(*t), reinterpret_cast<const std::byte*>(bytes.data()) + viewed.data_offset() + t->offset);
  float first;
  std::memcpy(&first, viewed.tensor_data(*t), sizeof first);
  EXPECT_EQ(first, 1.0f);

  // Errors name the given name where open() names the path.
  const std::string cut = bytes.substr(0, 30);
  try {
    GgufFile::view(std::as_bytes(std::span(cut)), "in-memory");
    ADD_FAILURE() << "a truncated view was accepted";
  } catch (const GgufError& e) {
    EXPECT_NE(std::string(e.what()).find("gguf in-memory: truncated"), std::string::npos) << e.what();
  }
  EXPECT_THROW(GgufFile::view({}, "empty"), GgufError);
}

}  // namespace
}  // namespace pice::kernels
