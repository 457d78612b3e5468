// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title TensorMerkle
/// @notice Verifies that elements belong to a committed tensor (docs/design.md §5): leaves hold
///         8 elements as big-endian 32-bit patterns, leaf = keccak(0x00 ‖ leaf), node =
///         keccak(0x01 ‖ left ‖ right), an odd node pairs with the empty hash of its
///         level (EMPTY[0] = keccak(0x02), EMPTY[h+1] = keccak(0x01 ‖ EMPTY[h] ‖ EMPTY[h])),
///         tensor root = keccak(merkle root ‖ uint256 length ‖ uint8 dtype).
/// @dev The same algorithm as packages/protocol/src/proofs.ts (rootFromProof).
library TensorMerkle {
    error EmptyRange();
    error PartialLeaf(uint256 words);
    error RangePastEnd(uint256 lastLeaf, uint256 leaves);
    error MissingSibling(uint256 used);
    error ExtraSiblings(uint256 used, uint256 given);
    /// @notice The last leaf holds a non-zero word past the tensor's `length` elements:
    ///         padding is part of the commitment and must be zero, or the same values
    ///         would have many roots.
    error NonZeroPadding(uint256 length, bytes32 lastLeaf);

    /// @dev Leaf `leaf` of `words`: 32 bytes, eight big-endian 32-bit elements.
    function leafHash(bytes calldata words, uint256 leaf) internal pure returns (bytes32) {
        return keccak256(bytes.concat(bytes1(0), words[leaf * 32:leaf * 32 + 32]));
    }

    function hashPair(bytes32 left, bytes32 right) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(uint8(1), left, right));
    }

    /// @notice The tensor root implied by leaves [firstLeaf, firstLeaf + words.length / 32)
    ///         with the given element bytes (4 per element, big-endian, as committed) and
    ///         siblings (bottom level up, left boundary first). Equal to the committed
    ///         root exactly when the words are the tensor's. A range that reaches the
    ///         last leaf must hold zero words past `length`: one root per value list.
    /// @dev One buffer of count + 2 words serves the whole climb: word 0 takes a left
    ///      boundary sibling, words 1 .. n the level's known nodes, word n + 1 a right
    ///      boundary sibling (or the empty hash). A row starts at word 0 or 1, and its
    ///      pairs are hashed in place into words 1 .. n': pair i is read from words at or
    ///      past 2i before word i + 1 is written. Every hash is taken over one 65-byte
    ///      scratch area after the buffer instead of a fresh allocation.
    function rootFromRange(uint256 length, uint8 dtype, uint256 firstLeaf, bytes calldata words, bytes32[] calldata siblings)
        internal
        pure
        returns (bytes32 root)
    {
        if (words.length == 0) revert EmptyRange();
        if (words.length % 32 != 0) revert PartialLeaf(words.length);
        uint256 n = words.length / 32;
        uint256 size = (length + 7) / 8;
        uint256 lo = firstLeaf;
        uint256 hi = firstLeaf + n - 1;
        if (hi >= size) revert RangePastEnd(hi, size);
        if (hi == size - 1 && length % 8 != 0) _checkPadding(words, n - 1, length);
        uint256 buf;
        uint256 scratch;
        // Cannot overflow: n is bounded by the calldata size and offsets by the buffer.
        assembly ("memory-safe") {
            buf := mload(0x40)
            scratch := add(buf, shl(5, add(n, 2)))
            mstore(0x40, add(scratch, 96))
            // Leaf l: keccak(0x00 ‖ words[32l .. 32l + 32]) into word l + 1.
            mstore(scratch, 0)
            let src := words.offset
            let out := add(buf, 32)
            for { let end := add(out, shl(5, n)) } lt(out, end) { out := add(out, 32) } {
                calldatacopy(add(scratch, 1), src, 32)
                mstore(out, keccak256(scratch, 33))
                src := add(src, 32)
            }
            mstore8(scratch, 1) // from here on the scratch is 0x01 ‖ left ‖ right
        }
        uint256 used = 0;
        bytes32 empty = keccak256(abi.encodePacked(uint8(2)));
        // Cannot overflow: used is at most siblings.length, n + 1 at most count + 1.
        unchecked {
            while (size > 1) {
                uint256 start = 1; // the row's first word
                if (lo % 2 == 1) {
                    bytes32 left = _sibling(siblings, used++);
                    assembly ("memory-safe") {
                        mstore(buf, left)
                    }
                    start = 0;
                }
                uint256 end = n + 1; // one past the row's last word
                if (hi % 2 == 0) {
                    bytes32 right = hi + 1 < size ? _sibling(siblings, used++) : empty;
                    assembly ("memory-safe") {
                        mstore(add(buf, shl(5, end)), right)
                    }
                    end += 1;
                }
                n = (end - start) / 2; // rows are even: from an even node to an odd one
                assembly ("memory-safe") {
                    let row := add(buf, shl(5, start))
                    let out := add(buf, 32)
                    for { let last := add(out, shl(5, n)) } lt(out, last) { out := add(out, 32) } {
                        mstore(add(scratch, 1), mload(row))
                        mstore(add(scratch, 33), mload(add(row, 32)))
                        mstore(out, keccak256(scratch, 65))
                        row := add(row, 64)
                    }
                    mstore(add(scratch, 1), empty)
                    mstore(add(scratch, 33), empty)
                    empty := keccak256(scratch, 65)
                }
                lo /= 2;
                hi /= 2;
                size = (size + 1) / 2;
            }
        }
        if (used != siblings.length) revert ExtraSiblings(used, siblings.length);
        assembly ("memory-safe") {
            mstore(scratch, mload(add(buf, 32)))
            mstore(add(scratch, 32), length)
            mstore8(add(scratch, 64), dtype)
            root := keccak256(scratch, 65)
        }
    }

    /// @dev Reverts unless leaf `leaf` of `words`, the tensor's last, is zero past `length`.
    function _checkPadding(bytes calldata words, uint256 leaf, uint256 length) private pure {
        bytes32 last = bytes32(words[leaf * 32:leaf * 32 + 32]);
        // length % 8 is 1..7 here, so the mask keeps the 7..1 words after the used ones.
        if (last & bytes32(type(uint256).max >> ((length % 8) * 32)) != 0) revert NonZeroPadding(length, last);
    }

    function _sibling(bytes32[] calldata siblings, uint256 used) private pure returns (bytes32) {
        if (used >= siblings.length) revert MissingSibling(used);
        return siblings[used];
    }
}
