// The model commands of the real binary, as a user would call them: `pice model synth --type <format>`
// writes quantized models that `pice model info` reports type by type and the engine runs, and
// `pice generate --chat` renders the prompt with the model's chat template.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>

#include "kernels/model.hpp"
#include "kernels/sequence.hpp"
#include "tests/common/process.hpp"

namespace pice::kernels {
namespace {

using pice::testing::ChildProcess;

struct PiceRun {
  int status;
  std::string out, err;
};

PiceRun run_pice(const std::vector<std::string>& args, const std::filesystem::path& logs, const std::string& name) {
  std::vector<std::string> argv{PICE_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  ChildProcess p(name, argv, logs);
  const std::optional<int> status = p.wait(std::chrono::seconds(120));
  return {status.value_or(-1), p.stdout_text(), p.stderr_text()};
}

TEST(QuantCli, SynthQ4KMRoundTripsThroughModelInfo) {
  pice::testing::TempDir dir;
  const std::filesystem::path model = dir.path() / "demo-q4_k_m.gguf";
  const PiceRun synth = run_pice({"model", "synth", model.string(), "--shape", "demo", "--type", "q4_k_m"}, dir.path(), "synth");
  ASSERT_EQ(synth.status, 0) << synth.err;
  EXPECT_NE(synth.out.find("q4_k_m"), std::string::npos) << synth.out;

  const PiceRun info = run_pice({"model", "info", model.string()}, dir.path(), "info");
  ASSERT_EQ(info.status, 0) << info.err;
  // demo: 4 layers, dim 256, ffn 688. Q4_K everywhere but: the tied embedding (the output) and attn_v
  // of layers 2 and 3 (llama.cpp's use_more_bits for 4 layers) in Q6_K; ffn_down's rows of 688 fit
  // neither 256- nor 32-blocks: F16. Norms F32.
  EXPECT_NE(info.out.find("tensors:      38 (f16: 4, f32: 9, q4_k: 22, q6_k: 3)"), std::string::npos) << info.out;
  // Synthetic models carry no chat template: info says which format stands in.
  EXPECT_NE(info.out.find("template:     chatml (fallback: no template)"), std::string::npos) << info.out;

  const auto loaded = Model::load(model);
  EXPECT_EQ(loaded->token_embedding().type, TensorType::q6_k);
  EXPECT_EQ(loaded->layer(2).wv.type, TensorType::q6_k);
  EXPECT_EQ(loaded->layer(1).wv.type, TensorType::q4_k);
  EXPECT_EQ(loaded->layer(0).w_gate.type, TensorType::q4_k);
  Sequence seq(loaded, 4);
  const std::vector<int32_t> tokens{1, 300, 301};
  const std::span<const float> logits = seq.feed(tokens);
  for (const float l : logits) ASSERT_TRUE(std::isfinite(l));
}

TEST(QuantCli, SynthNamesTheFormatsItKnows) {
  pice::testing::TempDir dir;
  const PiceRun bad = run_pice({"model", "synth", (dir.path() / "x.gguf").string(), "--type", "q5_0"}, dir.path(), "bad");
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.err.find("type must be one of f32, f16, bf16, q8_0, q4_0, q4_k, q6_k, q4_k_m, not 'q5_0'"),
            std::string::npos)
      << bad.err;
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "x.gguf"));
}

TEST(QuantCli, GenerateChatSendsThePromptThroughTheTemplate) {
  pice::testing::TempDir dir;
  const std::vector<std::string> common{"generate", "--model", "synth:tiny", "-n", "8", "--temp", "0"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = common;
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };
  // A synthetic model has no template: ChatML stands in, and its vocab lacks the markers, so the chat
  // prompt must be exactly the rendered ChatML text, and differ from the bare prompt.
  const PiceRun chat = run_pice(with({"--chat", "--prompt", "Hi"}), dir.path(), "chat");
  const PiceRun rendered =
      run_pice(with({"--prompt", "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"}), dir.path(), "rendered");
  const PiceRun bare = run_pice(with({"--prompt", "Hi"}), dir.path(), "bare");
  ASSERT_EQ(chat.status, 0) << chat.err;
  ASSERT_EQ(rendered.status, 0) << rendered.err;
  ASSERT_EQ(bare.status, 0) << bare.err;
  EXPECT_EQ(chat.out, rendered.out);
  EXPECT_NE(chat.out, bare.out);
}

TEST(QuantCli, SynthQwen2ShowsInModelInfoWithItsResidentMemory) {
  pice::testing::TempDir dir;
  const std::filesystem::path model = dir.path() / "tiny-qwen2.gguf";
  const PiceRun synth = run_pice({"model", "synth", model.string(), "--shape", "tiny", "--arch", "qwen2", "--type", "q8_0"},
                                 dir.path(), "synth");
  ASSERT_EQ(synth.status, 0) << synth.err;
  EXPECT_NE(synth.out.find("(qwen2, dim 64, 2 layers"), std::string::npos) << synth.out;

  const PiceRun info = run_pice({"model", "info", model.string(), "--load", "mmap"}, dir.path(), "info");
  ASSERT_EQ(info.status, 0) << info.err;
  EXPECT_NE(info.out.find("architecture: qwen2 (rope neox, q/k/v biases)"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("resident after loading with mmap-locked"), std::string::npos) << info.out;

  const PiceRun generate = run_pice({"generate", "--model", model.string(), "--prompt", "the", "-n", "4", "--load", "mmap",
                                     "--kv-window", "4", "--kv-keep", "2"},
                                    dir.path(), "generate");
  ASSERT_EQ(generate.status, 0) << generate.err;
  EXPECT_NE(generate.err.find("resident after loading with mmap-locked"), std::string::npos) << generate.err;

  const PiceRun bad = run_pice({"generate", "--model", model.string(), "--prompt", "the", "--load", "lazy"}, dir.path(), "bad");
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.err.find("--load must be read, mmap or mmap-lock-required, not 'lazy'"), std::string::npos) << bad.err;
}

TEST(QuantCli, SynthRefusesAnUnknownArchitecture) {
  pice::testing::TempDir dir;
  const PiceRun bad = run_pice({"model", "synth", (dir.path() / "x.gguf").string(), "--arch", "gpt2"}, dir.path(), "bad");
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.err.find("architecture 'gpt2' is not one of llama, qwen2"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace pice::kernels
