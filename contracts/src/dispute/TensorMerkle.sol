// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title TensorMerkle
/// @notice Verifies that elements belong to a committed tensor (DESIGN §5): leaves hold
///         8 elements as big-endian 32-bit patterns, leaf = keccak(0x00 ‖ leaf), node =
///         keccak(0x01 ‖ left ‖ right), an odd node pairs with the empty hash of its
///         level (EMPTY[0] = keccak(0x02), EMPTY[h+1] = keccak(0x01 ‖ EMPTY[h] ‖ EMPTY[h])),
///         tensor root = keccak(merkle root ‖ uint256 length ‖ uint8 dtype).
/// @dev The same algorithm as packages/engine/src/proofs.ts (rootFromProof).
library TensorMerkle {
    error EmptyRange();
    error PartialLeaf(uint256 words);
    error RangePastEnd(uint256 lastLeaf, uint256 leaves);
    error MissingSibling(uint256 used);
    error ExtraSiblings(uint256 used, uint256 given);

    /// @dev Leaf `leaf` of `words`: 32 bytes, eight big-endian 32-bit elements.
    function leafHash(bytes calldata words, uint256 leaf) internal pure returns (bytes32) {
        return keccak256(bytes.concat(bytes1(0), words[leaf * 32:leaf * 32 + 32]));
    }

    function hashPair(bytes32 left, bytes32 right) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(uint8(1), left, right));
    }

    /// @dev Where the climb stands: leaves per level, the range of known nodes, siblings used.
    struct Climb {
        uint256 size;
        uint256 lo;
        uint256 hi;
        uint256 n;
        uint256 used;
        bytes32 empty;
    }

    /// @notice The tensor root implied by leaves [firstLeaf, firstLeaf + words.length / 32)
    ///         with the given element bytes (4 per element, big-endian, as committed) and
    ///         siblings (bottom level up, left boundary first). Equal to the committed
    ///         root exactly when the words are the tensor's.
    function rootFromRange(uint256 length, uint8 dtype, uint256 firstLeaf, bytes calldata words, bytes32[] calldata siblings)
        internal
        pure
        returns (bytes32)
    {
        if (words.length == 0) revert EmptyRange();
        if (words.length % 32 != 0) revert PartialLeaf(words.length);
        uint256 count = words.length / 32;
        Climb memory c = Climb((length + 7) / 8, firstLeaf, firstLeaf + count - 1, count, 0, keccak256(abi.encodePacked(uint8(2))));
        if (c.hi >= c.size) revert RangePastEnd(c.hi, c.size);
        bytes32[] memory nodes = new bytes32[](count + 2);
        for (uint256 l = 0; l < count; l++) nodes[l] = leafHash(words, l);
        while (c.size > 1) _up(c, nodes, siblings);
        if (c.used != siblings.length) revert ExtraSiblings(c.used, siblings.length);
        return keccak256(abi.encodePacked(nodes[0], length, dtype));
    }

    /// @dev One level up: add the boundary siblings (or the empty hash), pair the row.
    function _up(Climb memory c, bytes32[] memory nodes, bytes32[] calldata siblings) private pure {
        bytes32[] memory row = new bytes32[](c.n + 2);
        uint256 r = 0;
        if (c.lo % 2 == 1) row[r++] = _sibling(c, siblings);
        for (uint256 i = 0; i < c.n; i++) row[r++] = nodes[i];
        if (c.hi % 2 == 0) row[r++] = c.hi + 1 < c.size ? _sibling(c, siblings) : c.empty;
        c.n = r / 2;
        for (uint256 i = 0; i < c.n; i++) nodes[i] = hashPair(row[2 * i], row[2 * i + 1]);
        c.lo /= 2;
        c.hi /= 2;
        c.size = (c.size + 1) / 2;
        c.empty = hashPair(c.empty, c.empty);
    }

    function _sibling(Climb memory c, bytes32[] calldata siblings) private pure returns (bytes32) {
        if (c.used >= siblings.length) revert MissingSibling(c.used);
        return siblings[c.used++];
    }
}
