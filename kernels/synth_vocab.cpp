// The built-in SPM vocab of synthetic models.
#include <array>
#include <stdexcept>
#include <string>
#include <unordered_set>

#include "kernels/synth.hpp"

namespace pice::kernels {
namespace {

// Common English words, most frequent first (earlier words get higher merge scores). Capitalised
// forms are listed where sentences often start with them.
constexpr std::array kWords = {
    "the", "of", "and", "to", "a", "in", "is", "it", "you", "that", "he", "was", "for", "on", "are", "with",
    "as", "I", "his", "they", "be", "at", "one", "have", "this", "from", "or", "had", "by", "not", "word",
    "but", "what", "some", "we", "can", "out", "other", "were", "all", "there", "when", "up", "use", "your",
    "how", "said", "an", "each", "she", "which", "do", "their", "time", "if", "will", "way", "about", "many",
    "then", "them", "write", "would", "like", "so", "these", "her", "long", "make", "thing", "see", "him",
    "two", "has", "look", "more", "day", "could", "go", "come", "did", "number", "sound", "no", "most",
    "people", "my", "over", "know", "water", "than", "call", "first", "who", "may", "down", "side", "been",
    "now", "find", "any", "new", "work", "part", "take", "get", "place", "made", "live", "where", "after",
    "back", "little", "only", "round", "man", "year", "came", "show", "every", "good", "me", "give", "our",
    "under", "name", "very", "through", "just", "form", "sentence", "great", "think", "say", "help", "low",
    "line", "differ", "turn", "cause", "much", "mean", "before", "move", "right", "boy", "old", "too",
    "same", "tell", "does", "set", "three", "want", "air", "well", "also", "play", "small", "end", "put",
    "home", "read", "hand", "port", "large", "spell", "add", "even", "land", "here", "must", "big", "high",
    "such", "follow", "act", "why", "ask", "men", "change", "went", "light", "kind", "off", "need", "house",
    "picture", "try", "us", "again", "animal", "point", "mother", "world", "near", "build", "self", "earth",
    "father", "head", "stand", "own", "page", "should", "country", "found", "answer", "school", "grow",
    "study", "still", "learn", "plant", "cover", "food", "sun", "four", "between", "state", "keep", "eye",
    "never", "last", "let", "thought", "city", "tree", "cross", "farm", "hard", "start", "might", "story",
    "saw", "far", "sea", "draw", "left", "late", "run", "while", "press", "close", "night", "real", "life",
    "few", "north", "open", "seem", "together", "next", "white", "children", "begin", "got", "walk",
    "example", "ease", "paper", "group", "always", "music", "those", "both", "mark", "often", "letter",
    "until", "mile", "river", "car", "feet", "care", "second", "book", "carry", "took", "science", "eat",
    "room", "friend", "began", "idea", "fish", "mountain", "stop", "once", "base", "hear", "horse", "cut",
    "sure", "watch", "color", "face", "wood", "main", "enough", "plain", "girl", "usual", "young", "ready",
    "above", "ever", "red", "list", "though", "feel", "talk", "bird", "soon", "body", "dog", "family",
    "direct", "pose", "leave", "song", "measure", "door", "product", "black", "short", "question", "happen",
    "complete", "ship", "area", "half", "rock", "order", "fire", "south", "problem", "piece", "told",
    "knew", "pass", "since", "top", "whole", "king", "space", "heard", "best", "hour", "better", "true",
    "during", "hundred", "five", "remember", "step", "early", "hold", "west", "ground", "interest", "reach",
    "fast", "verb", "sing", "listen", "six", "table", "travel", "less", "morning", "ten", "simple",
    "several", "toward", "war", "lay", "against", "pattern", "slow", "center", "love", "person", "money",
    "serve", "appear", "road", "map", "rain", "rule", "govern", "pull", "cold", "notice", "voice", "unit",
    "power", "town", "fine", "certain", "fly", "fall", "lead", "cry", "dark", "machine", "note", "wait",
    "plan", "figure", "star", "box", "noun", "field", "rest", "able", "pound", "done", "beauty", "drive",
    "stood", "contain", "front", "teach", "week", "final", "gave", "green", "oh", "quick", "develop",
    "ocean", "warm", "free", "minute", "strong", "special", "mind", "behind", "clear", "tail", "produce",
    "fact", "street", "inch", "nothing", "course", "stay", "wheel", "full", "force", "blue", "object",
    "decide", "surface", "deep", "moon", "island", "foot", "system", "busy", "test", "record", "boat",
    "common", "gold", "possible", "plane", "dry", "wonder", "laugh", "thousand", "ago", "ran", "check",
    "game", "shape", "yes", "hot", "miss", "brought", "heat", "snow", "bed", "bring", "sit", "perhaps",
    "fill", "east", "weight", "language", "among", "happy", "ball", "park", "sad", "Lily", "Tom", "mom",
    "dad", "toy", "data", "model", "edge", "cloud", "network", "speed", "energy", "health", "use",
    "The", "Once", "One", "He", "She", "It", "They", "We", "You", "What", "How", "Why", "When", "This",
    "There", "In", "A", "If", "First", "Second", "Third", "Finally", "Yes", "No"};

constexpr std::string_view kSpace = "\xe2\x96\x81";   // U+2581, SPM's visible space
constexpr std::string_view kChars =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,!?'\":;-()/&%$#@*+=[]";

class Builder {
 public:
  void add(std::string piece, TokenType type, float score) {
    if (!seen_.insert(piece).second) return;
    v.pieces.push_back(std::move(piece));
    v.types.push_back(type);
    v.scores.push_back(score);
  }
  // Ordinary pieces score by arrival: earlier (more common) pieces win merge ties.
  void add_text(std::string piece) { add(std::move(piece), TokenType::normal, -static_cast<float>(v.pieces.size())); }
  size_t size() const { return v.pieces.size(); }
  Vocab v;

 private:
  std::unordered_set<std::string> seen_;
};

Builder base_vocab() {
  Builder b;
  b.add("<unk>", TokenType::unknown, 0);
  b.add("<s>", TokenType::control, 0);
  b.add("</s>", TokenType::control, 0);
  static const char* hex = "0123456789ABCDEF";
  for (int i = 0; i < 256; ++i) b.add(std::string("<0x") + hex[i >> 4] + hex[i & 15] + ">", TokenType::byte, 0);
  b.add_text(std::string(kSpace));
  for (const char c : kChars) b.add_text(std::string(1, c));
  for (const char c : kChars) b.add_text(std::string(kSpace) + c);   // "▁1", "▁(", "▁a": word starts
  for (const std::string_view word : kWords)
    for (size_t len = 1; len <= word.size(); ++len) b.add_text(std::string(kSpace) + std::string(word.substr(0, len)));
  b.v.bos = 1;
  b.v.eos = 2;
  b.v.unk = 0;
  return b;
}

}  // namespace

int synth_base_vocab_size() {
  static const int size = static_cast<int>(base_vocab().size());
  return size;
}

Vocab synth_vocab(int size) {
  Builder b = base_vocab();
  if (size < static_cast<int>(b.size()))
    throw std::invalid_argument("synth vocab: size " + std::to_string(size) + " is below the built-in " +
                                std::to_string(b.size()) + " pieces");
  // Padding: pronounceable made-up words ("▁bako", "▁tesu"), so text sampled from a big synthetic
  // vocab is still readable. Scored below every real piece so they never disturb real merges.
  static constexpr std::string_view consonants = "bdfgklmnprstvz", vowels = "aeiou";
  const uint64_t syllables = consonants.size() * vowels.size();
  for (uint64_t i = 0; static_cast<int>(b.size()) < size; ++i) {
    std::string word(kSpace);
    for (uint64_t n = i + 1; n > 0; n = (n - 1) / syllables) {
      const uint64_t s = (n - 1) % syllables;
      word += consonants[s / vowels.size()];
      word += vowels[s % vowels.size()];
    }
    if (word.size() > kSpace.size() + 2) b.add(std::move(word), TokenType::normal, -1e6f - static_cast<float>(i));
  }
  return std::move(b.v);
}

}  // namespace pice::kernels
