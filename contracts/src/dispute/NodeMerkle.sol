// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title NodeMerkle
/// @notice `nodeRoot` of packages/protocol/src/commit.ts over a list of 32-byte nodes
///         (slot tensor roots, op output roots, op leaves, transcript records): node =
///         keccak(0x01 ‖ left ‖ right), the last node of an odd level pairs with
///         EMPTY[height], EMPTY[0] = keccak(0x02), EMPTY[h+1] = keccak(0x01 ‖ EMPTY[h] ‖ EMPTY[h]);
///         a single node is its own root and the root of no nodes is EMPTY[0].
/// @dev The same tree as TensorMerkle's over leaf hashes. Pairs are hashed in place in
///      unallocated memory, so a root over thousands of nodes costs no memory growth.
library NodeMerkle {
    /// @dev EMPTY[0] = keccak256(0x02).
    bytes32 internal constant EMPTY_LEAF = 0xf2ee15ea639b73fa3db9b34a245bdfa015c260c598b211bf05a1ecc4b3e3b4f2;

    error IndexOutOfRange(uint256 index, uint256 count);
    error MissingSibling(uint256 used);
    error ExtraSiblings(uint256 used, uint256 given);

    /// @notice keccak256(0x01 ‖ left ‖ right).
    function hashPair(bytes32 left, bytes32 right) internal pure returns (bytes32 h) {
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore8(p, 1)
            mstore(add(p, 1), left)
            mstore(add(p, 33), right)
            h := keccak256(p, 65)
        }
    }

    /// @notice The root of `count` nodes implied by node `index` being `leaf`, with the
    ///         real siblings bottom-up: a node that is the last of an odd level pairs with
    ///         the empty hash of its level and takes no sibling.
    /// @dev Reverts {IndexOutOfRange} if index >= count, {MissingSibling} or
    ///      {ExtraSiblings} if the proof has the wrong number of siblings for (index, count).
    function rootFromLeaf(bytes32 leaf, uint256 index, uint256 count, bytes32[] calldata siblings)
        internal
        pure
        returns (bytes32 node)
    {
        if (index >= count) revert IndexOutOfRange(index, count);
        node = leaf;
        bytes32 empty = EMPTY_LEAF;
        uint256 used = 0;
        while (count > 1) {
            if (index & 1 == 1) {
                if (used >= siblings.length) revert MissingSibling(used);
                node = hashPair(siblings[used++], node);
            } else if (index + 1 < count) {
                if (used >= siblings.length) revert MissingSibling(used);
                node = hashPair(node, siblings[used++]);
            } else {
                node = hashPair(node, empty);
            }
            index >>= 1;
            count = (count + 1) >> 1;
            empty = hashPair(empty, empty);
        }
        if (used != siblings.length) revert ExtraSiblings(used, siblings.length);
    }

    /// @notice nodeRoot(nodes); `nodes` is left unchanged.
    function root(bytes32[] memory nodes) internal pure returns (bytes32) {
        uint256 n = nodes.length;
        if (n == 0) return EMPTY_LEAF;
        if (n == 1) return nodes[0];
        // Each level is written over the first half of the one below it: pair i reads
        // nodes 2i and 2i + 1 before anything at or after 2i + 2 is overwritten.
        bytes32[] memory level = new bytes32[]((n + 1) / 2);
        bytes32[] memory src = nodes;
        bytes32 empty = EMPTY_LEAF;
        while (n > 1) {
            uint256 half = n >> 1;
            for (uint256 i = 0; i < half; i++) level[i] = hashPair(src[2 * i], src[2 * i + 1]);
            if (n & 1 == 1) {
                level[half] = hashPair(src[n - 1], empty);
                n = half + 1;
            } else {
                n = half;
            }
            src = level;
            empty = hashPair(empty, empty);
        }
        return level[0];
    }
}
