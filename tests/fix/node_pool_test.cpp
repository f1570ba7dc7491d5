// The order table's free-list pool (fix/src/node_pool.hpp). The chunk-size
// test catches an under-sized chunk under AddressSanitizer
// (scripts/test --sanitize): a chunk once held stride / 32 * kChunk
// max_align_t elements, fewer bytes than kChunk blocks of a 48-byte stride
// need, and the last blocks of each chunk overwrote the heap.

#include "node_pool.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <vector>

namespace synthusd::fix {
namespace {

template <std::size_t Size>
struct Block {
  unsigned char bytes[Size];
};

template <std::size_t Size>
void fill_every_block_of_three_chunks() {
  NodePool pool;
  NodePoolAllocator<Block<Size>> allocator(pool);
  std::vector<Block<Size>*> blocks;
  for (std::size_t i = 0; i < 3 * NodePool::kChunk; ++i) {
    Block<Size>* block = allocator.allocate(1);
    std::memset(block->bytes, static_cast<int>(i & 0xff), Size);
    blocks.push_back(block);
  }
  std::set<Block<Size>*> distinct(blocks.begin(), blocks.end());
  EXPECT_EQ(distinct.size(), blocks.size());
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    for (std::size_t byte = 0; byte < Size; ++byte) {
      ASSERT_EQ(blocks[i]->bytes[byte], static_cast<unsigned char>(i & 0xff)) << "block " << i << " byte " << byte;
    }
  }
  for (Block<Size>* block : blocks) {
    allocator.deallocate(block, 1);
  }
}

TEST(NodePool, every_block_of_a_chunk_is_inside_the_chunk_whatever_the_block_size) {
  fill_every_block_of_three_chunks<8>();
  fill_every_block_of_three_chunks<48>();
  fill_every_block_of_three_chunks<80>();
  fill_every_block_of_three_chunks<100>();
  fill_every_block_of_three_chunks<344>();
}

TEST(NodePool, a_freed_block_is_handed_out_again_before_the_pool_grows) {
  NodePool pool;
  NodePoolAllocator<Block<48>> allocator(pool);
  Block<48>* first = allocator.allocate(1);
  allocator.deallocate(first, 1);
  EXPECT_EQ(allocator.allocate(1), first);
}

TEST(NodePool, reserve_ahead_grows_only_once_half_a_chunk_is_left) {
  NodePool pool;
  EXPECT_FALSE(pool.reserve_ahead()); // the block size is not known yet
  NodePoolAllocator<Block<48>> allocator(pool);
  std::vector<Block<48>*> blocks;
  blocks.push_back(allocator.allocate(1)); // the first chunk: kChunk - 1 left
  EXPECT_FALSE(pool.reserve_ahead());
  while (blocks.size() < NodePool::kChunk / 2) {
    blocks.push_back(allocator.allocate(1));
  }
  EXPECT_TRUE(pool.reserve_ahead()); // kChunk / 2 left: one more chunk
  EXPECT_FALSE(pool.reserve_ahead());
  for (Block<48>* block : blocks) {
    allocator.deallocate(block, 1);
  }
}

TEST(NodePool, other_sizes_and_arrays_go_to_operator_new) {
  NodePool pool;
  NodePoolAllocator<Block<48>> allocator(pool);
  Block<48>* array = allocator.allocate(4); // not a node: not from the pool
  std::memset(array, 0, 4 * sizeof(Block<48>));
  allocator.deallocate(array, 4);
  EXPECT_FALSE(pool.reserve_ahead()); // still no block size learned from an array
}

} // namespace
} // namespace synthusd::fix
