#include "actors/cancelled_requests.hpp"

#include <gtest/gtest.h>

namespace pice::actors {
namespace {

TEST(CancelledRequests, RemembersTheNewestAndForgetsTheOldest) {
  CancelledRequests cancelled(3);
  EXPECT_FALSE(cancelled.contains("r1"));
  for (const char* id : {"r1", "r2", "r3"}) cancelled.add(id);
  cancelled.add("r2");   // again: still one entry, so r1 stays
  EXPECT_TRUE(cancelled.contains("r1"));
  cancelled.add("r4");
  EXPECT_FALSE(cancelled.contains("r1")) << "the oldest is forgotten beyond the bound";
  for (const char* id : {"r2", "r3", "r4"}) EXPECT_TRUE(cancelled.contains(id)) << id;
}

}  // namespace
}  // namespace pice::actors
