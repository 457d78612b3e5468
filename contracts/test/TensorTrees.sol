// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {StepOps} from "../src/dispute/StepOps.sol";

/// @notice Tensor trees for tests (docs/design.md §5): leaf = keccak(0x00 ‖ 8 big-endian words,
///         zero padded), node = keccak(0x01 ‖ left ‖ right), an odd node pairs with EMPTY
///         of its level, root = keccak(merkle root ‖ uint256 length ‖ uint8 dtype); and
///         range openings of them, as the engine's proofs.ts builds them.
library TensorTrees {
    function leaf(uint32[] memory v, uint256 l) internal pure returns (bytes32 b) {
        for (uint256 i = 0; i < 8; i++) {
            uint256 j = l * 8 + i;
            if (j < v.length) b |= bytes32(uint256(v[j]) << (224 - 32 * i));
        }
    }

    function levels(uint32[] memory v) internal pure returns (bytes32[][] memory tree) {
        uint256 size = (v.length + 7) / 8;
        uint256 height = 1;
        for (uint256 s = size; s > 1; s = (s + 1) / 2) {
            height++;
        }
        tree = new bytes32[][](height);
        tree[0] = new bytes32[](size);
        for (uint256 l = 0; l < size; l++) {
            tree[0][l] = keccak256(abi.encodePacked(uint8(0), leaf(v, l)));
        }
        bytes32 empty = keccak256(abi.encodePacked(uint8(2)));
        for (uint256 h = 1; h < height; h++) {
            bytes32[] memory below = tree[h - 1];
            bytes32[] memory row = new bytes32[]((below.length + 1) / 2);
            for (uint256 i = 0; i < row.length; i++) {
                bytes32 right = 2 * i + 1 < below.length ? below[2 * i + 1] : empty;
                row[i] = keccak256(abi.encodePacked(uint8(1), below[2 * i], right));
            }
            tree[h] = row;
            empty = keccak256(abi.encodePacked(uint8(1), empty, empty));
        }
    }

    function root(uint32[] memory v, uint8 dtype) internal pure returns (bytes32) {
        bytes32[][] memory tree = levels(v);
        return keccak256(abi.encodePacked(tree[tree.length - 1][0], v.length, dtype));
    }

    /// @dev Leaves [first, first + count) with the siblings of the range, bottom level up,
    ///      left boundary first.
    function open(uint32[] memory v, uint8 dtype, uint256 first, uint256 count)
        internal
        pure
        returns (StepOps.Opening memory o)
    {
        bytes memory words = new bytes(count * 32);
        for (uint256 l = 0; l < count; l++) {
            bytes32 word = leaf(v, first + l);
            assembly {
                mstore(add(add(words, 32), mul(l, 32)), word)
            }
        }
        bytes32[][] memory tree = levels(v);
        bytes32[] memory siblings = new bytes32[](2 * tree.length);
        uint256 used = 0;
        uint256 lo = first;
        uint256 hi = first + count - 1;
        for (uint256 h = 0; h + 1 < tree.length; h++) {
            if (lo % 2 == 1) siblings[used++] = tree[h][lo - 1];
            if (hi % 2 == 0 && hi + 1 < tree[h].length) siblings[used++] = tree[h][hi + 1];
            lo /= 2;
            hi /= 2;
        }
        assembly {
            mstore(siblings, used)
        }
        o = StepOps.Opening({length: v.length, dtype: dtype, firstLeaf: first, words: words, siblings: siblings});
    }
}
