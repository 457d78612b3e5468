// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {TensorMerkle} from "./TensorMerkle.sol";

/// @notice Exposes TensorMerkle for tests against the engine's proofs.
contract TensorMerkleHarness {
    function rootFromRange(uint256 length, uint8 dtype, uint256 firstLeaf, bytes calldata words, bytes32[] calldata siblings)
        external
        pure
        returns (bytes32)
    {
        return TensorMerkle.rootFromRange(length, dtype, firstLeaf, words, siblings);
    }
}
